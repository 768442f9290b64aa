package org.peft4j.models.core;

import java.util.List;
import java.util.function.Predicate;

/**
 * How a family's checkpoint tensors are named against its module paths, both ways, so that a
 * checkpoint loads and a merged export writes the names Transformers saves.
 */
public interface CheckpointNames {

    /** The module path a checkpoint tensor loads into, or null for a tensor the model does not use. */
    String toPath(String checkpointName);

    /** The name Transformers saves the parameter at {@code path} under. */
    String toCheckpoint(String path);

    /** Names equal to paths, less the unused tensors {@code unused} picks. */
    static CheckpointNames dropping(Predicate<String> unused) {
        return prefixed("", "", unused);
    }

    /**
     * Paths under {@code prefix} ("transformer." for GPT-2): a checkpoint name with or without
     * {@code stripped} loads under the prefix; saved names carry the prefix, as Transformers writes them.
     *
     * @param prefix   the prefix the module paths carry ("" for none)
     * @param stripped a prefix checkpoints may carry that the paths do not ("bert." for a bare encoder
     *                 loading a task model's checkpoint; "" for none)
     * @param unused   checkpoint names (with their prefix removed) the model does not use
     */
    static CheckpointNames prefixed(String prefix, String stripped, Predicate<String> unused) {
        return new CheckpointNames() {
            @Override
            public String toPath(String name) {
                String n = name;
                if (!stripped.isEmpty() && n.startsWith(stripped)) {
                    n = n.substring(stripped.length());
                }
                if (!prefix.isEmpty() && n.startsWith(prefix)) {
                    n = n.substring(prefix.length());
                }
                return unused.test(n) ? null : prefix + n;
            }

            @Override
            public String toCheckpoint(String path) {
                return path;
            }
        };
    }

    /**
     * A task model's names: a checkpoint tensor under one of {@code headParts} ("classifier.") loads
     * as it is named, every other one as {@code encoder} maps it; saved names are the paths.
     */
    static CheckpointNames withHead(CheckpointNames encoder, List<String> headParts) {
        return new CheckpointNames() {
            @Override
            public String toPath(String name) {
                return headParts.stream().anyMatch(name::startsWith) ? name : encoder.toPath(name);
            }

            @Override
            public String toCheckpoint(String path) {
                return path;
            }
        };
    }
}
