package org.peft4j.models.deberta;

import java.util.Arrays;
import java.util.List;

/**
 * The disentangled attention terms beside content-to-content (He et al. 2021, eq. 2), by their
 * {@code pos_att_type} names.
 */
public enum PositionAttention {
    /** Content-to-position: a query's content against the key's relative position. */
    C2P("c2p"),
    /** Position-to-content: the query's relative position against a key's content. */
    P2C("p2c");

    private final String hfName;

    PositionAttention(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    /** The term named {@code name} (any case, as Transformers lowercases it), or null. */
    public static PositionAttention named(String name) {
        return Arrays.stream(values()).filter(p -> p.hfName.equalsIgnoreCase(name.strip())).findFirst().orElse(null);
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(PositionAttention::hfName).toList();
    }
}
