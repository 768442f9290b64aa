package org.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.CausalLmLoss;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderForCausalLM;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.util.List;
import java.util.Random;

/**
 * A small Llama built in memory from a config (≈7M parameters, random weights), trained as a causal
 * LM on random tokens: the decoder path (RMSNorm, rotary, grouped-query attention, SwiGLU, a
 * vocabulary-wide head) without a download.
 */
public final class LlamaWorkload implements Workload {

    /** The name that selects this workload on the command line. */
    public static final String NAME = "llama-small";

    /** 4 layers of width 256, 8 query heads sharing 4 key/value heads, vocabulary 8192, untied head. */
    public static final DecoderConfig SMALL = DecoderConfig.llama(256, 688, 4, 8, 4, 32, 1e-5, 10000, 8192, 512, false);

    private final DecoderConfig config;
    private final int batch;
    private final int seqLen;
    private final NDManager manager;
    private final NDArray inputIds;
    private final NDArray attentionMask;

    public LlamaWorkload(DecoderConfig config, int batch, int seqLen, NDManager manager) {
        if (seqLen > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("--seq " + seqLen + " exceeds the small Llama's "
                    + config.maxPositionEmbeddings() + " positions");
        }
        this.config = config;
        this.batch = batch;
        this.seqLen = seqLen;
        this.manager = manager;
        Random rnd = new Random(1234);
        long[] ids = new long[batch * seqLen];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(config.vocabSize());
        }
        Shape s = new Shape(batch, seqLen);
        inputIds = manager.create(ids, s);
        attentionMask = manager.ones(s, DataType.INT64);
    }

    @Override
    public String describe() {
        return String.format("small Llama (random init, %d layers x %d, vocab %d)", config.numHiddenLayers(),
                config.hiddenSize(), config.vocabSize());
    }

    /** Matrices ~ Normal(0, 0.02) from a fixed seed (as HF's initializer_range), norms at one. */
    @Override
    public Module newModel() {
        DecoderForCausalLM lm = new DecoderForCausalLM(manager, config);
        Random rnd = new Random(42);
        for (Parameter p : lm.namedParameters().values()) {
            Shape shape = p.value().getShape();
            if (shape.dimension() == 2) {
                float[] w = new float[Math.toIntExact(shape.size())];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (rnd.nextGaussian() * 0.02);
                }
                p.set(manager.create(w, shape));
            }
        }
        return lm;
    }

    /** Next-token cross-entropy on every position (the labels are the inputs, shifted inside the loss). */
    @Override
    public NDArray loss(Module model) {
        return CausalLmLoss.loss(((DecoderForCausalLM) model).forward(inputIds, attentionMask), inputIds);
    }

    @Override
    public void infer(Module model) {
        ((DecoderForCausalLM) model).forward(inputIds, attentionMask).get(0, 0, 0).getFloat();
    }

    @Override
    public List<String> loraTargets() {
        return List.of("q_proj", "v_proj");
    }

    @Override
    public List<String> modulesToSave() {
        return List.of();
    }

    @Override
    public double flops(Module model, boolean training) {
        return StepFlops.count(model, batch, seqLen, null, config.numHiddenLayers(),
                config.numAttentionHeads() * config.headDim(), training);
    }

    @Override
    public long tokens() {
        return (long) batch * seqLen;
    }

    @Override
    public void close() {
        inputIds.close();
        attentionMask.close();
    }
}
