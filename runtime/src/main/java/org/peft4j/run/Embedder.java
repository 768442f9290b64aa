package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.data.PairBatches;
import org.peft4j.data.PairDataset;
import org.peft4j.data.Tokenizer;
import org.peft4j.embedding.PoolingMode;
import org.peft4j.embedding.SentenceEncoder;
import org.peft4j.nn.Module;
import org.peft4j.peft.files.PeftAdapters;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.StepScope;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Sentence vectors of texts with an encoder (its adapter optional), as {@code peft4j embed} writes
 * them: pooled token states, L2-normalised, computed in batches without an autograd graph.
 */
public final class Embedder implements AutoCloseable {

    private final SentenceEncoder encoder;
    private final Tokenizer tokenizer;
    private final NDManager manager;

    /** An encoder already loaded (and adapted), in eval mode, with the tokenizer it reads. */
    public Embedder(SentenceEncoder encoder, Tokenizer tokenizer) {
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.manager = Backend.get().manager();
    }

    /**
     * Loads a Hugging Face encoder directory (BERT, RoBERTa, ModernBERT, DeBERTa-v2) with its
     * pooling and a PEFT LoRA or AdaLoRA adapter, or none, frozen and in eval mode.
     *
     * @param maxLength tokens per text, longer ones are cut; at most the model's positions
     */
    public static Embedder open(Path modelDir, Path adapterDir, PoolingMode pooling, int maxLength) throws IOException {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 (room for [CLS] and [SEP]), got " + maxLength);
        }
        SentenceEncoder encoder = SentenceEncoder.load(modelDir, pooling);
        if (adapterDir != null) {
            PeftAdapters.load(adapterDir, encoder.model());
        }
        encoder.model().setTrainable(false);
        encoder.model().train(false);
        return new Embedder(encoder, Tokenizer.load(modelDir, Math.min(maxLength, encoder.maxLength())));
    }

    /** The unit vectors of {@code texts}, one row each, in their order. */
    public float[][] embed(List<String> texts, int batchSize) {
        float[][] vectors = new float[texts.size()][];
        if (texts.isEmpty()) {
            return vectors;
        }
        PairBatches batches = PairBatches.inOrder(PairDataset.sentences(texts, tokenizer), batchSize);
        for (int b = 0; b < batches.size(); b++) {
            // the batch's arrays and activations are freed with the step; only the Java copy is kept
            try (StepScope scope = new StepScope()) {
                PairBatches.Column c = PairBatches.unpack(batches.get(b, manager)).get(0);
                NDArray v = encoder.encode(c.inputIds(), c.attentionMask(), c.tokenTypeIds());   // (B, H) unit rows
                int width = (int) v.getShape().get(1);
                float[] flat = v.toFloatArray();
                int[] rows = batches.indices(b);
                for (int j = 0; j < rows.length; j++) {
                    vectors[rows[j]] = Arrays.copyOfRange(flat, j * width, (j + 1) * width);
                }
            }
        }
        return vectors;
    }

    public PoolingMode pooling() {
        return encoder.pooling();
    }

    /** Frees the tokenizer and the encoder's parameters. */
    @Override
    public void close() {
        tokenizer.close();
        Module model = encoder.model();
        model.namedParameters().values().forEach(p -> p.value().close());
    }
}
