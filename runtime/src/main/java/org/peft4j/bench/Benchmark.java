package org.peft4j.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.adalora.AdaLoraConfig;
import org.peft4j.peft.adalora.AdaLoraHook;
import org.peft4j.peft.adalora.AdaLoraInjector;
import org.peft4j.peft.lora.LoraConfig;
import org.peft4j.peft.lora.LoraInjector;
import org.peft4j.peft.lora.LoraLinear;
import org.peft4j.peft.lora.LoraModel;
import org.peft4j.tensor.ActivationCheckpoints;
import org.peft4j.tensor.Backend;
import org.peft4j.tensor.ComputePrecision;
import org.peft4j.tensor.GradientTape;
import org.peft4j.tensor.StepScope;
import org.peft4j.train.AdamW;
import org.peft4j.train.GradientClipping;
import org.peft4j.train.Optimizer;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training and inference speed of one {@link Workload} on this machine, measured in one process:
 * LoRA, AdaLoRA at the same final budget and full fine-tuning; inference with the base model, an
 * unmerged and a merged adapter; the GEMM ceiling of the engine.
 *
 * <p>Cases of one kind are measured together: each gets its own model and its own warm-up, then
 * the timed repeats go round-robin (case order rotated every round), so drift, thermal state and
 * other load on the machine reach every case alike and ratios between cases stay meaningful.
 */
public final class Benchmark {

    /** The training cases, in table order. */
    public static final List<String> TRAINING = List.of("lora", "lora-checkpointed", "adalora", "full");
    /** The inference cases, in table order. */
    public static final List<String> INFERENCE = List.of("base", "lora-unmerged", "lora-merged");

    /**
     * @param warmup  untimed repeats of each case before the timed rounds
     * @param repeats timed rounds; each times every case once
     * @param r       LoRA rank on the workload's targets
     */
    public record Options(int warmup, int repeats, int r) {
    }

    /** One measured case. */
    public record Case(String name, String kind, Timing timing, double flops, long tokens, long trainableParams) {
        public double tokensPerSecond() {
            return tokens / timing.median();
        }

        public double gflops() {
            return flops / timing.median() / 1e9;
        }
    }

    /** A case set up and ready: one call is one timed repeat (a training step or a forward pass). */
    public interface Runner extends AutoCloseable {
        void run();

        /** Matrix-multiply FLOPs of one repeat. */
        double flops();

        long trainableParams();

        @Override
        void close();
    }

    private final Workload workload;
    private final Options options;
    private final NDManager manager;
    private final PrintStream log;

    public Benchmark(Workload workload, Options options, PrintStream log) {
        this.workload = workload;
        this.options = options;
        this.manager = Backend.get().manager();
        this.log = log;
    }

    /** A case name's suffix that runs the case with bfloat16 products ({@link ComputePrecision#BFLOAT16}). */
    public static final String BF16 = "-bf16";

    /** Whether {@code name} is a case: one of {@link #TRAINING} or {@link #INFERENCE}, optionally with {@link #BF16}. */
    public static boolean isCase(String name) {
        String base = name.endsWith(BF16) ? name.substring(0, name.length() - BF16.length()) : name;
        return TRAINING.contains(base) || INFERENCE.contains(base);
    }

    /** The precision a case name asks for. */
    public static ComputePrecision precisionOf(String name) {
        return name.endsWith(BF16) ? ComputePrecision.BFLOAT16 : ComputePrecision.FLOAT32;
    }

    /**
     * Sets up the named case (one of {@link #TRAINING} or {@link #INFERENCE}, with {@link #BF16} for
     * bfloat16 products) on a fresh model; each of its repeats runs in the case's precision.
     */
    public Runner runner(String name) throws IOException {
        ComputePrecision precision = precisionOf(name);
        Runner runner = runnerAtAnyPrecision(name.endsWith(BF16) ? name.substring(0, name.length() - BF16.length()) : name);
        return new Runner() {
            @Override
            public void run() {
                ComputePrecision before = ComputePrecision.current();
                ComputePrecision.use(precision);
                try {
                    runner.run();
                } finally {
                    ComputePrecision.use(before);
                }
            }

            @Override
            public double flops() {
                return runner.flops();
            }

            @Override
            public long trainableParams() {
                return runner.trainableParams();
            }

            @Override
            public void close() {
                runner.close();
            }
        };
    }

    private Runner runnerAtAnyPrecision(String name) throws IOException {
        int steps = options.warmup() + options.repeats();
        return switch (name) {
            case "lora" -> training(model -> {
                lora(model);
                return null;
            }, false);
            case "lora-checkpointed" -> training(model -> {
                lora(model);
                return null;
            }, true);
            case "adalora" -> training(model -> adalora(model, steps), false);
            case "full" -> training(model -> {
                model.setTrainable(true);
                return null;
            }, false);
            case "base" -> inference(model -> { });
            case "lora-unmerged" -> inference(this::trainedLora);
            case "lora-merged" -> inference(model -> trainedLora(model).merge());
            default -> throw new IllegalArgumentException("no bench case '" + name + "'; cases: " + TRAINING + " "
                    + INFERENCE);
        };
    }

    private interface Adapt {
        AdaLoraHook apply(Module model);
    }

    private interface Prepare {
        void apply(Module model);
    }

    /**
     * Full optimizer steps: forward, backward, clipping, AdamW, zeroing (and AdaLoRA's hook work);
     * with {@code checkpointed}, each layer is re-run in backward instead of keeping its activations.
     */
    private Runner training(Adapt adapt, boolean checkpointed) throws IOException {
        Module model = workload.newModel();
        AdaLoraHook hook = adapt.apply(model);
        List<Parameter> trainable = new ArrayList<>();
        model.namedParameters().values().forEach(p -> {
            if (p.trainable()) {
                trainable.add(p);
            }
        });
        Optimizer opt = new AdamW(trainable, 0.9, 0.999, 1e-8, 0.01);
        model.train(true);
        double flops = workload.flops(model, true);
        long params = model.trainableParameterCount();
        return new Runner() {
            int step;

            @Override
            public void run() {
                try (StepScope s = new StepScope()) {
                    step++;
                    try (GradientTape gc = Backend.get().newGradientTape();
                         ActivationCheckpoints tape = checkpointed ? ActivationCheckpoints.open() : null) {
                        NDArray loss = workload.loss(model);
                        NDArray extra = hook == null ? null : hook.extraLoss();
                        gc.backward(extra == null ? loss : loss.add(extra));
                        if (tape != null) {
                            tape.backward();
                        }
                        loss.getFloat();
                    }
                    if (hook != null) {
                        hook.afterBackward(step);
                    }
                    GradientClipping.clip(trainable, 1.0);
                    opt.step(1e-4);
                    if (hook != null) {
                        hook.afterOptimizerStep(step);
                    }
                    opt.zeroGrad();
                }
            }

            @Override
            public double flops() {
                return flops;
            }

            @Override
            public long trainableParams() {
                return params;
            }

            @Override
            public void close() {
                opt.close();
                free(model);
            }
        };
    }

    /** Forward passes in eval mode without a graph. */
    private Runner inference(Prepare prepare) throws IOException {
        Module model = workload.newModel();
        prepare.apply(model);
        model.train(false);
        double flops = workload.flops(model, false);
        return new Runner() {
            @Override
            public void run() {
                try (StepScope s = new StepScope()) {
                    workload.infer(model);
                }
            }

            @Override
            public double flops() {
                return flops;
            }

            @Override
            public long trainableParams() {
                return 0;
            }

            @Override
            public void close() {
                free(model);
            }
        };
    }

    /** LoRA r on the workload's targets, alpha = 2r, its head (if any) trained in full: the quickstart's adapter. */
    private LoraModel lora(Module model) {
        return LoraInjector.inject(model, LoraConfig.of(options.r(), 2.0 * options.r(), 0.0, workload.loraTargets(),
                workload.modulesToSave()), manager);
    }

    /**
     * AdaLoRA on the same targets at the same final budget (targetR = r, initR = 1.5 r), with the
     * regularizer, importance updates and masking every step: its full per-step cost.
     */
    private AdaLoraHook adalora(Module model, int steps) {
        int r = options.r();
        AdaLoraConfig c = AdaLoraConfig.builder().initR(r + r / 2).targetR(r).tinit(0).tfinal(0).deltaT(1)
                .totalSteps(steps + 1).alpha(2.0 * r).dropout(0).orthReg(0.1)
                .targets(workload.loraTargets()).modulesToSave(workload.modulesToSave()).build();
        return AdaLoraInjector.inject(model, c, manager).hook(steps + 1);
    }

    /** A LoRA adapter with a non-zero B, so the unmerged path does real work. */
    private LoraModel trainedLora(Module model) {
        LoraModel lora = LoraInjector.inject(model, LoraConfig.of(options.r(), 2.0 * options.r(), 0.0,
                workload.loraTargets(), List.of()), manager);
        for (LoraLinear l : lora.layers().values()) {
            Parameter b = l.loraB().weight();
            b.set(manager.randomNormal(0f, 0.02f, b.value().getShape(), DataType.FLOAT32));
        }
        return lora;
    }

    private static void free(Module model) {
        model.namedParameters().values().forEach(p -> p.value().close());
        System.gc();
    }

    /**
     * Sets up every named case, warms each up on its own, then times {@code repeats} rounds; round k
     * runs the cases starting from the k-th, so no case always follows the same neighbour.
     */
    public List<Case> interleaved(String kind, List<String> names) throws IOException {
        Map<String, Runner> runners = new LinkedHashMap<>();
        try {
            for (String name : names) {
                Runner runner = runner(name);
                runners.put(name, runner);
                for (int i = 0; i < options.warmup(); i++) {
                    runner.run();
                }
            }
            List<Runner> list = new ArrayList<>(runners.values());
            int n = list.size();
            double[][] seconds = new double[n][options.repeats()];
            for (int round = 0; round < options.repeats(); round++) {
                for (int j = 0; j < n; j++) {
                    int i = (round + j) % n;
                    long t0 = System.nanoTime();
                    list.get(i).run();
                    seconds[i][round] = (System.nanoTime() - t0) / 1e9;
                }
            }
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Runner runner = list.get(i);
                Case c = new Case(names.get(i), kind, new Timing(seconds[i]), runner.flops(), workload.tokens(),
                        runner.trainableParams());
                log.printf("  %-22s %8.1f ms  %8.0f tokens/s%n", c.name(), 1000 * c.timing().median(),
                        c.tokensPerSecond());
                cases.add(c);
            }
            return cases;
        } finally {
            runners.values().forEach(Runner::close);
        }
    }

    /** GEMM peak, then the training cases interleaved, then the inference cases interleaved. */
    public List<Case> timeAll(List<String> training, List<String> inference) throws IOException {
        List<Case> cases = new ArrayList<>();
        if (!training.isEmpty()) {
            log.printf("training steps (%s), interleaved%n", workload.describe());
            cases.addAll(interleaved("train", training));
        }
        if (!inference.isEmpty()) {
            log.printf("inference (%s), interleaved%n", workload.describe());
            cases.addAll(interleaved("inference", inference));
        }
        return cases;
    }

    /** The fp32 GEMM ceiling: the better of n = 1024 and n = 2048. */
    public double gemmPeak() {
        return gemmPeak(ComputePrecision.FLOAT32);
    }

    /** The GEMM ceiling in {@code precision}: the better of n = 1024 and n = 2048. */
    public double gemmPeak(ComputePrecision precision) {
        log.printf("GEMM peak (%s, this engine)%n", precision.name().toLowerCase());
        double peak = Math.max(GemmPeak.gflops(manager, 1024, 10, precision), GemmPeak.gflops(manager, 2048, 5, precision));
        log.printf("  %.0f GFLOP/s%n", peak);
        return peak;
    }
}
