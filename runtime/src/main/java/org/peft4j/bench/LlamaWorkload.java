package org.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.peft4j.models.CausalLmLoss;
import org.peft4j.models.Registry;
import org.peft4j.models.core.CausalLm;
import org.peft4j.models.core.DecoderConfig;
import org.peft4j.models.core.DecoderForCausalLM;
import org.peft4j.models.core.ModelConfig;
import org.peft4j.models.core.Task;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * A causal LM trained on random tokens: a small Llama built in memory from a config (≈7M
 * parameters, random weights), the decoder path (RMSNorm, rotary, grouped-query attention, SwiGLU, a
 * vocabulary-wide head) without a download; or the decoder of a Hugging Face directory.
 */
public final class LlamaWorkload implements Workload {

    /** The name that selects this workload on the command line. */
    public static final String NAME = "llama-small";

    /** 4 layers of width 256, 8 query heads sharing 4 key/value heads, vocabulary 8192, untied head. */
    public static final DecoderConfig SMALL = DecoderConfig.llama(256, 688, 4, 8, 4, 32, 1e-5, 10000, 8192, 512, false);

    private final DecoderConfig small;
    private final Path dir;
    private final ModelConfig config;
    private final List<String> targets;
    private final int batch;
    private final int seqLen;
    private final NDManager manager;
    private final NDArray inputIds;
    private final NDArray attentionMask;

    /** The small Llama of {@code config}, built in memory with random weights. */
    public LlamaWorkload(DecoderConfig config, int batch, int seqLen, NDManager manager) {
        this(config, null, config, List.of("q_proj", "v_proj"), batch, seqLen, manager);
    }

    /** The causal language model of a Hugging Face directory, of any family the registry loads. */
    public LlamaWorkload(Path dir, int batch, int seqLen, NDManager manager) throws IOException {
        this(null, dir, Registry.config(dir), Registry.familyOf(dir).loraTargets(), batch, seqLen, manager);
    }

    private LlamaWorkload(DecoderConfig small, Path dir, ModelConfig config, List<String> targets, int batch,
                          int seqLen, NDManager manager) {
        if (seqLen > config.maxPositions()) {
            throw new IllegalArgumentException("--seq " + seqLen + " exceeds the model's " + config.maxPositions()
                    + " positions");
        }
        this.small = small;
        this.dir = dir;
        this.config = config;
        this.targets = targets;
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
        return String.format("%s (%d layers x %d, vocab %d)", dir == null ? "small Llama, random init"
                : dir.getFileName() + " causal LM", config.numLayers(), config.hiddenSize(), config.vocabSize());
    }

    /** Matrices ~ Normal(0, 0.02) from a fixed seed (as HF's initializer_range), norms at one. */
    @Override
    public Module newModel() throws IOException {
        if (dir != null) {
            return (Module) Registry.load(dir, Task.CAUSAL_LM);
        }
        DecoderForCausalLM lm = new DecoderForCausalLM(manager, small);
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
        return CausalLmLoss.loss(((CausalLm) model).forward(inputIds, attentionMask, null, null), inputIds);
    }

    @Override
    public void infer(Module model) {
        ((CausalLm) model).forward(inputIds, attentionMask, null, null).get(0, 0, 0).getFloat();
    }

    @Override
    public List<String> loraTargets() {
        return targets;
    }

    @Override
    public List<String> modulesToSave() {
        return List.of();
    }

    @Override
    public double flops(Module model, boolean training) {
        return StepFlops.count(model, batch, seqLen, null, config.numLayers(),
                config instanceof DecoderConfig d ? d.numAttentionHeads() * d.headDim() : config.hiddenSize(), training);
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
