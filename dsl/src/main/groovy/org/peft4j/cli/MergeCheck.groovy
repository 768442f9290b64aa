package org.peft4j.cli

import ai.djl.ndarray.NDArray
import org.peft4j.data.CausalLmTokenizer
import org.peft4j.data.PairBatches
import org.peft4j.data.PairDataset
import org.peft4j.data.Tokenizer
import org.peft4j.export.MergedExport
import org.peft4j.models.Registry
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.Task
import org.peft4j.models.core.TokenEncoder
import org.peft4j.nn.Module
import org.peft4j.peft.TrainedHead
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.run.MergeDifference
import org.peft4j.run.Predictor
import org.peft4j.run.Probes
import org.peft4j.tensor.Backend

import java.nio.file.Path
import java.util.function.Supplier

/**
 * The figure every merge prints: the merged directory, loaded as a plain model, against the base model with the
 * adapter unmerged, on a few fixed texts. It checks the files written, not only the merge in memory. The models
 * are those the merge wrote: a decoder's logits, a classifier's logits (as {@code predict} computes them), or a
 * bare encoder's token states.
 */
final class MergeCheck {

    /** Short texts of the kinds the example recipes see; any text would do, the same for both models. */
    static final List<String> TEXTS = ['Is this message spam or ham?', 'The meeting moved to Thursday at 10am, same room.',
                                       'WINNER!! Claim your free prize now, click here', 'Thanks for the slides, see you tomorrow.']

    /** Positions compared per text: a decoder's vocabulary makes every position many logits. */
    static final int POSITIONS = 32

    private MergeCheck() {
    }

    /** Compares what {@code MergedExport.merge(modelDir, adapter, merged, labels)} wrote with base + adapter. */
    static MergeDifference of(Path modelDir, Path adapter, Path merged, List<String> labels) {
        // the order MergedExport.merge decides what it writes in: a classifier on any family first
        if (labels != null || TrainedHead.rows(modelDir, adapter).present) {
            return classifier(modelDir, adapter, merged, labels)
        }
        if (MergedExport.isDecoder(modelDir)) {
            return decoder(modelDir, adapter, merged)
        }
        encoder(modelDir, adapter, merged)
    }

    private static MergeDifference classifier(Path modelDir, Path adapter, Path merged, List<String> labels) {
        float[][] unmerged
        List<String> names
        Predictor.open(modelDir, adapter, labels, 0).withCloseable { Predictor p ->
            unmerged = p.logits(TEXTS, TEXTS.size())
            names = p.labels()
        }
        float[][] plain = Predictor.open(merged, null, names, 0).withCloseable { Predictor p -> p.logits(TEXTS, TEXTS.size()) }
        MergeDifference.of(unmerged, plain)
    }

    private static MergeDifference decoder(Path modelDir, Path adapter, Path merged) {
        CausalLmTokenizer.load(modelDir).withCloseable { CausalLmTokenizer t ->
            List<long[]> rows = TEXTS.collect { String text ->
                int[] ids = t.encode(text)
                long[] row = new long[Math.min(ids.length, POSITIONS)]
                for (int i = 0; i < row.length; i++) {
                    row[i] = ids[i]
                }
                row
            }
            Closure<float[][]> logits = { CausalLm lm ->
                rows.collect { long[] row -> outputs((Module) lm) { lm.forward(ids(row), null, null, null) }[0] } as float[][]
            }
            MergeDifference.of(withAdapter(Registry.load(modelDir, Task.CAUSAL_LM), adapter, logits),
                    plain(Registry.load(merged, Task.CAUSAL_LM), logits))
        }
    }

    private static MergeDifference encoder(Path modelDir, Path adapter, Path merged) {
        Tokenizer.load(modelDir, POSITIONS).withCloseable { Tokenizer t ->
            PairDataset texts = PairDataset.sentences(TEXTS, t)
            Closure<float[][]> states = { TokenEncoder e ->
                outputs((Module) e) {
                    PairBatches.Column c = PairBatches.unpack(PairBatches.inOrder(texts, TEXTS.size())
                            .get(0, Backend.get().manager())).get(0)
                    e.forward(c.inputIds(), c.attentionMask(), c.tokenTypeIds())
                }
            }
            MergeDifference.of(withAdapter(Registry.load(modelDir, Task.ENCODER), adapter, states),
                    plain(Registry.load(merged, Task.ENCODER), states))
        }
    }

    /** {@code outputs} of {@code model} with the adapter loaded beside its layers, unmerged; the model is freed. */
    private static <M> float[][] withAdapter(M model, Path adapter, Closure<float[][]> outputs) {
        try {
            PeftAdapters.load(adapter, (Module) model)
            outputs(model)
        } finally {
            free((Module) model)
        }
    }

    private static <M> float[][] plain(M model, Closure<float[][]> outputs) {
        try {
            outputs(model)
        } finally {
            free((Module) model)
        }
    }

    /** One forward pass with dropout off, freed at once, as rows (one per text) of float32. */
    private static float[][] outputs(Module m, Closure<NDArray> forward) {
        Probes.of(m, forward as Supplier<NDArray>)
    }

    private static NDArray ids(long[] row) {
        Backend.get().manager().create(row).reshape(1, row.length)
    }

    private static void free(Module m) {
        m.namedParameters().values().each { it.value().close() }
    }
}
