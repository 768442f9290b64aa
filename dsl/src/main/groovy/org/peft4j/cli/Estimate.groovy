package org.peft4j.cli

import groovy.transform.CompileStatic
import org.peft4j.models.EmbeddedModels
import org.peft4j.models.Registry
import org.peft4j.models.core.ModelConfig
import org.peft4j.run.HalfPrecision
import org.peft4j.run.Plan
import org.peft4j.run.RunConfig
import org.peft4j.train.OptimizerConfig

import java.nio.file.Path

/**
 * A rough, unmeasured estimate of a run's memory and time, for {@code peft4j check}.
 * <ul>
 * <li>memory = weights (4 B × all parameters; with dtype float16, 2 B × frozen + 4 B × trainable) + gradients (4 B × trainable) + optimizer state (AdamW: 8 B × trainable,
 *   SGD with momentum: 4 B) + activations kept for the backward pass, per layer s·b·h·(34 + 5·a·s/h) bytes at 16 bits
 *   (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", eq. 1), doubled for
 *   float32 (not with float16), with s = data.maxLength as the worst case of dynamic padding; with activation
 *   checkpointing, each layer's input (4 B × s·b·h, 2 B with float16) plus one layer's activations, and one more forward pass of FLOPs. JVM and libtorch overhead
 *   are not included.</li>
 * <li>time = FLOPs / an assumed {@value #ASSUMED_FLOPS_PER_SECOND} FLOP/s. Training FLOPs per token ≈ 2N forward +
 *   2N backward to the activations + 2T for the trainable weights' gradients + 3 × 2·L·s·h for attention (after
 *   Kaplan et al. 2020, "Scaling Laws for Neural Language Models", §2.1, C ≈ 6N when everything trains), with N the
 *   non-embedding parameters and T the trainable ones; evaluation is a forward pass, before and after training.</li>
 * </ul>
 */
@CompileStatic
final class Estimate {

    static final double ASSUMED_FLOPS_PER_SECOND = 100e9

    final long memoryBytes
    final double seconds
    final String breakdown

    private Estimate(long memoryBytes, double seconds, String breakdown) {
        this.memoryBytes = memoryBytes
        this.seconds = seconds
        this.breakdown = breakdown
    }

    static Estimate of(RunConfig config, Plan plan) {
        Path dir = config.model().path() ?: EmbeddedModels.resolve(config.model().source())
        ModelConfig hf = Registry.config(dir)
        long h = hf.hiddenSize()
        long layers = hf.numLayers()
        long heads = hf.numHeads()
        long embeddings = hf.embeddingParameters()
        long s = config.data().maxLength()
        long b = config.train().batchSize()
        long total = plan.totalParams()
        long trainable = plan.trainableParams()
        long n = Math.max(0L, total - embeddings)

        boolean half = HalfPrecision.isHalf(config.backend().dtype())
        // bytes per element of the frozen weights and of the activations; trainable weights are always float32
        int bytes = half ? 2 : 4
        long weights = bytes * (total - trainable) + 4L * trainable
        long grads = 4L * trainable
        OptimizerConfig opt = config.optimizer()
        long state = opt.kind() == OptimizerConfig.Kind.ADAMW ? 8L * trainable : (opt.momentum() > 0 ? 4L * trainable : 0L)
        double perLayer = (bytes / 2d) * s * b * h * (34d + 5d * heads * s / h)
        boolean recompute = config.train().activationCheckpointing()
        // with activation checkpointing: the input of every layer but the last (4 B × s·b·h) and one layer's
        // activations at a time (the last layer is not re-run: backward needs it first)
        long activations = (long) (recompute ? (layers - 1) * (double) bytes * s * b * h + perLayer : layers * perLayer)
        long memory = weights + grads + state + activations

        Map<String, Long> train = plan.splits()['train'] ?: [:]
        double trainTokens = (train['tokens'] ?: 0L) * (double) plan.totalSteps() / Math.max(1, plan.stepsPerEpoch())
        double evalTokens = (double) ((plan.splits().findAll { k, v -> k != 'train' }.values()
                .collect { Map<String, Long> m -> m['tokens'] ?: 0L }.sum() ?: 0L) as Number)
        double attention = 2d * layers * s * h
        // re-running every layer but the last in backward costs one more forward pass of those layers
        double rerun = recompute ? (layers - 1d) / layers : 0d
        double trainFlops = trainTokens * ((4d + 2d * rerun) * n + 2d * trainable + (3d + rerun) * attention)
        double evalFlops = 2 * evalTokens * (2d * n + attention)
        double seconds = (trainFlops + evalFlops) / ASSUMED_FLOPS_PER_SECOND

        String text = String.format('memory     ~%s (weights %s + gradients %s + optimizer state %s + activations %s;' +
                ' JVM and libtorch overhead not included)%n', gib(memory), gib(weights), gib(grads), gib(state), gib(activations)) +
                String.format('time       ~%s (estimate, not measured: %.2e training + %.2e evaluation FLOPs at an assumed %.0f GFLOP/s)%n',
                        RunCommand.duration(seconds), trainFlops, evalFlops, ASSUMED_FLOPS_PER_SECOND / 1e9) +
                (half ? String.format('dtype      float16: frozen weights and activations in half precision (for GPUs: on the CPU' +
                        ' half-precision matrix products are ~75x slower than float32, so the time above does not hold there)%n') : '')
        new Estimate(memory, seconds, text)
    }

    private static String gib(long bytes) {
        bytes >= 1L << 30 ? String.format('%.2f GiB', bytes / (double) (1L << 30)) : String.format('%.0f MiB', bytes / (double) (1L << 20))
    }
}
