package org.peft4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.peft4j.data.Batch;
import org.peft4j.models.bert.BertConfig;
import org.peft4j.models.bert.BertForSequenceClassification;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.adalora.AdaLoraConfig;
import org.peft4j.peft.adalora.AdaLoraHook;
import org.peft4j.peft.adalora.AdaLoraInjector;
import org.peft4j.train.StepHook;
import org.peft4j.peft.lora.LoraConfig;
import org.peft4j.peft.lora.LoraInjector;
import org.peft4j.peft.lora.LoraLinear;
import org.peft4j.peft.lora.LoraModel;
import org.peft4j.run.ClassificationTask;
import org.peft4j.run.MemoryStats;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.StepScope;
import org.peft4j.train.AdamW;
import org.peft4j.train.GradientClipping;
import org.peft4j.train.Optimizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Training and inference speed of a sequence classifier on this machine, measured in one process:
 * LoRA, full fine-tuning, and extra adapters a caller plugs in; inference with the base model, an
 * unmerged adapter and a merged one; the GEMM ceiling of the engine; peak memory per case.
 */
public final class Benchmark {

    /**
     * @param modelDir a BERT-style HF directory
     * @param batch    examples per step
     * @param seqLen   tokens per example (every token real: no padding)
     * @param warmup   untimed repeats first
     * @param repeats  timed repeats
     * @param r        LoRA rank on query and value
     */
    public record Options(Path modelDir, int batch, int seqLen, int warmup, int repeats, int r) {
    }

    /** One measured case. */
    public record Case(String name, String kind, Timing timing, double flops, long tokens, long peakRssBytes,
                       long trainableParams) {
        public double tokensPerSecond() {
            return tokens / timing.median();
        }

        public double gflops() {
            return flops / timing.median() / 1e9;
        }
    }

    /** Something that adapts a freshly loaded model for training (and returns its per-step hook, or null). */
    public interface Adapter {
        StepHook apply(BertForSequenceClassification model, NDManager manager, int steps);
    }

    private final Options options;
    private final NDManager manager;
    private final PrintStream log;
    private final BertConfig config;

    public Benchmark(Options options, PrintStream log) throws IOException {
        this.options = options;
        this.manager = Backend.get().manager();
        this.log = log;
        this.config = BertConfig.read(options.modelDir().resolve("config.json"));
    }

    public BertConfig config() {
        return config;
    }

    /** A batch of random real tokens (ids drawn from the upper vocabulary), every position attended. */
    Batch batch(NDManager m) {
        Random rnd = new Random(1234);
        long[] ids = new long[options.batch() * options.seqLen()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1000 + rnd.nextInt(config.vocabSize() - 1000);
        }
        long[] labels = new long[options.batch()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 2;
        }
        Shape s = new Shape(options.batch(), options.seqLen());
        NDArray inputIds = m.create(ids, s);
        return new Batch(inputIds, m.ones(s, DataType.INT64), m.zeros(s, DataType.INT64), m.create(labels),
                (long) options.batch() * options.seqLen());
    }

    /** Trains {@code repeats} full optimizer steps (forward, backward, clip, AdamW, zero) on a fresh model. */
    public Case training(String name, Adapter adapter) throws IOException {
        resetPeakRss();
        BertForSequenceClassification model = BertForSequenceClassification.fromPretrained(options.modelDir(), 2, 42);
        StepHook hook = adapter.apply(model, manager, options.warmup() + options.repeats());
        int[] step = {0};
        List<Parameter> trainable = new ArrayList<>();
        model.namedParameters().values().forEach(p -> {
            if (p.trainable()) {
                trainable.add(p);
            }
        });
        ClassificationTask task = new ClassificationTask(model, manager);
        Optimizer opt = new AdamW(trainable, 0.9, 0.999, 1e-8, 0.01);
        model.train(true);
        try (StepScope keep = new StepScope()) {
            Batch batch = batch(manager);
            Timing t = Timing.measure(options.warmup(), options.repeats(), () -> {
                try (StepScope s = new StepScope()) {
                    step[0]++;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = task.loss(batch);
                        NDArray extra = hook == null ? null : hook.extraLoss();
                        gc.backward(extra == null ? loss : loss.add(extra));
                        loss.getFloat();
                    }
                    if (hook != null) {
                        hook.afterBackward(step[0]);
                    }
                    GradientClipping.clip(trainable, 1.0);
                    opt.step(1e-4);
                    if (hook != null) {
                        hook.afterOptimizerStep(step[0]);
                    }
                    opt.zeroGrad();
                }
            });
            Case c = new Case(name, "train", t, StepFlops.training(model, config, options.batch(), options.seqLen()),
                    (long) options.batch() * options.seqLen(), MemoryStats.peakRssBytes(),
                    model.trainableParameterCount());
            log.printf("  %-22s %8.1f ms/step  %8.0f tokens/s%n", name, 1000 * t.median(), c.tokensPerSecond());
            return c;
        } finally {
            opt.close();
            free(model);
        }
    }

    /** Forward passes in eval mode without a graph. {@code prepare} may adapt or merge the model first. */
    public Case inference(String name, Consumer<BertForSequenceClassification> prepare) throws IOException {
        resetPeakRss();
        BertForSequenceClassification model = BertForSequenceClassification.fromPretrained(options.modelDir(), 2, 42);
        prepare.accept(model);
        model.train(false);
        try (StepScope keep = new StepScope()) {
            Batch batch = batch(manager);
            Timing t = Timing.measure(options.warmup(), options.repeats(), () -> {
                try (StepScope s = new StepScope()) {
                    model.forward(batch.inputIds(), batch.attentionMask(), batch.tokenTypeIds()).get(0, 0).getFloat();
                }
            });
            Case c = new Case(name, "inference", t, StepFlops.inference(model, config, options.batch(), options.seqLen()),
                    (long) options.batch() * options.seqLen(), MemoryStats.peakRssBytes(), 0);
            log.printf("  %-22s %8.1f ms/batch %8.0f tokens/s%n", name, 1000 * t.median(), c.tokensPerSecond());
            return c;
        } finally {
            free(model);
        }
    }

    /** LoRA r on query and value, the classifier trained in full (the quickstart's adapter). */
    public Adapter lora() {
        return (model, m, steps) -> {
            LoraInjector.inject(model, LoraConfig.of(options.r(), 2.0 * options.r(), 0.0, List.of("query", "value"),
                    List.of("classifier")), m);
            return null;
        };
    }

    /**
     * AdaLoRA on query and value at the same final budget as {@link #lora()} (targetR = r, initR = 1.5 r),
     * with the regularizer, importance updates every step and masking every step: its full per-step cost.
     */
    public Adapter adalora() {
        return (model, m, steps) -> {
            int r = options.r();
            AdaLoraConfig c = AdaLoraConfig.builder().initR(r + r / 2).targetR(r).tinit(0).tfinal(0).deltaT(1)
                    .totalSteps(steps + 1).alpha(2.0 * r).dropout(0).orthReg(0.1)
                    .targets(List.of("query", "value")).modulesToSave(List.of("classifier")).build();
            AdaLoraHook h = AdaLoraInjector.inject(model, c, m).hook(steps + 1);
            return new StepHook() {
                @Override
                public NDArray extraLoss() {
                    return h.extraLoss();
                }

                @Override
                public void afterBackward(int step) {
                    h.afterBackward(step);
                }

                @Override
                public void afterOptimizerStep(int step) {
                    h.afterOptimizerStep(step);
                }
            };
        };
    }

    /** Every parameter trains. */
    public static Adapter full() {
        return (model, m, steps) -> {
            model.setTrainable(true);
            return null;
        };
    }

    /** A LoRA adapter with a non-zero B, so the unmerged path does real work. */
    public Consumer<BertForSequenceClassification> unmergedLora() {
        return model -> trainedLora(model);
    }

    public Consumer<BertForSequenceClassification> mergedLora() {
        return model -> trainedLora(model).merge();
    }

    private LoraModel trainedLora(BertForSequenceClassification model) {
        LoraModel lora = LoraInjector.inject(model, LoraConfig.of(options.r(), 2.0 * options.r(), 0.0,
                List.of("query", "value"), List.of()), manager);
        for (LoraLinear l : lora.layers().values()) {
            Parameter b = l.loraB().weight();
            b.set(manager.randomNormal(0f, 0.02f, b.value().getShape(), DataType.FLOAT32));
        }
        return lora;
    }

    private static void free(BertForSequenceClassification model) {
        model.namedParameters().values().forEach(p -> p.value().close());
        System.gc();
    }

    /** Resets the kernel's peak-RSS mark (Linux: writing 5 to clear_refs), so each case reports its own peak. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux, or not permitted: peaks then accumulate over cases, which the report says
        }
    }

    /** The whole standard run: GEMM peak, LoRA / extra / full training, base / unmerged / merged inference. */
    public BenchReport runAll(Map<String, Adapter> extraTraining) throws IOException {
        log.println("GEMM peak (fp32, this engine)");
        double peak = Math.max(GemmPeak.gflops(manager, 1024, 10), GemmPeak.gflops(manager, 2048, 5));
        log.printf("  %.0f GFLOP/s%n", peak);
        List<Case> cases = new ArrayList<>();
        log.printf("training steps, batch %d x %d tokens%n", options.batch(), options.seqLen());
        cases.add(training("lora", lora()));
        cases.add(training("adalora", adalora()));
        for (Map.Entry<String, Adapter> e : extraTraining.entrySet()) {
            cases.add(training(e.getKey(), e.getValue()));
        }
        cases.add(training("full", full()));
        log.printf("inference, batch %d x %d tokens%n", options.batch(), options.seqLen());
        cases.add(inference("base", m -> { }));
        cases.add(inference("lora-unmerged", unmergedLora()));
        cases.add(inference("lora-merged", mergedLora()));
        return new BenchReport(options, peak, cases, Backend.get().describe());
    }
}
