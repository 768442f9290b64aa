package org.peft4j.peft

import ai.djl.engine.Engine
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.gpt2.GPT2LMHeadModel
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.nn.Conv1D
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraFiles
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.adalora.AdaLoraModel
import org.peft4j.peft.adalora.SvdLinear
import org.peft4j.peft.lora.AdapterFiles
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.peft.lora.LoraLinear
import org.peft4j.peft.lora.LoraModel
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.train.AdamW
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * A tiny GPT-2 with LoRA or AdaLoRA on its Conv1D layers (weights stored [in, out]), and the hand
 * arithmetic the specs compare with: the tiny GPT-2's forward pass in double with the weights
 * W + ΔWᵀ that the adapter's factors give, ΔW = s·B A (LoRA) or (α / init_r)·P (Λ ⊙ mask) Q
 * (AdaLoRA), both [out, in].
 */
abstract class Gpt2AdapterFixture extends Specification {

    @TempDir
    @Shared
    Path tmp

    @Shared
    TinyGpt2 tiny = new TinyGpt2(41)

    @Shared
    Path modelDir

    NDManager m = Backend.get().manager()

    static final List<Integer> IDS = [3, 17, 0, 9, 22, 5]
    /** c_proj names both the square attention output (8 → 8) and the MLP's 32 → 8. */
    static final List<String> TARGETS = ['c_attn', 'c_proj', 'c_fc']
    static final List<String> PATHS = (0..<TinyGpt2.LAYERS).collectMany { l ->
        ["transformer.h.${l}.attn.c_attn", "transformer.h.${l}.attn.c_proj", "transformer.h.${l}.mlp.c_fc",
         "transformer.h.${l}.mlp.c_proj"]*.toString()
    }

    def setupSpec() {
        modelDir = tiny.writeTo(tmp.resolve('model'))
    }

    def setup() {
        Backend.get().seed(17)
    }

    GPT2LMHeadModel fresh() {
        def lm = GPT2LMHeadModel.fromPretrained(modelDir)
        lm.train(false)
        lm
    }

    /** The adapter of {@code method} on c_attn, c_proj and c_fc; LoRA's config leaves fanInFanOut at its default, false. */
    def inject(String method, GPT2LMHeadModel lm) {
        method == 'LoRA'
                ? LoraInjector.inject(lm, LoraConfig.builder().r(4).alpha(8).targets(*TARGETS).build(), m)
                : AdaLoraInjector.inject(lm, AdaLoraConfig.builder().initR(6).targetR(3).alpha(12).tinit(4).tfinal(4)
                .deltaT(2).totalSteps(40).targets(TARGETS).build(), m)
    }

    /** Moves the adapter away from its start so that ΔW is neither 0 nor negligible. */
    void perturb(adapter) {
        adapter.layers().values().each { layer ->
            if (layer instanceof LoraLinear) {
                set(layer.loraB().weight(), 0.3f)
            } else {
                [layer.loraA(), layer.loraB(), layer.loraE()].each { set(it, 0.3f) }
            }
        }
    }

    void set(Parameter p, float std) {
        p.set(m.randomNormal(0f, std, p.value().shape, DataType.FLOAT32))
    }

    float[] logits(GPT2LMHeadModel lm, List<Integer> ids = IDS) {
        try (def s = new StepScope()) {
            return lm.forward(m.create([ids as long[]] as long[][]), null).toFloatArray()
        }
    }

    static double[] d(float[] a) { a.collect { it as double } as double[] }

    /**
     * ΔWᵀ in the stored [in, out] layout, by hand: s·Σk B[o][k] λk A[k][i] with λ = 1 for LoRA and
     * λ = Λ ⊙ mask for AdaLoRA.
     */
    static double[] deltaInOut(layer) {
        double[] a, b, lambda
        int r
        if (layer instanceof LoraLinear) {
            a = d(layer.loraA().weight().value().toFloatArray())
            b = d(layer.loraB().weight().value().toFloatArray())
            r = layer.rank()
            lambda = [1d] * r as double[]
        } else {
            a = d(layer.loraA().value().toFloatArray())
            b = d(layer.loraB().value().toFloatArray())
            r = layer.rank()
            double[] e = d(layer.loraE().value().toFloatArray()), mask = d(layer.mask().toFloatArray())
            lambda = (0..<r).collect { e[it] * mask[it] } as double[]
        }
        deltaInOut(a, b, lambda, r, layer.inFeatures() as int, layer.outFeatures() as int, layer.scaling())
    }

    static double[] deltaInOut(double[] a, double[] b, double[] lambda, int r, int inF, int outF, double s) {
        double[] out = new double[inF * outF]
        for (int i = 0; i < inF; i++) {
            for (int o = 0; o < outF; o++) {
                double sum = 0
                for (int k = 0; k < r; k++) sum += b[o * r + k] * lambda[k] * a[k * inF + i]
                out[i * outF + o] = s * sum
            }
        }
        out
    }

    /** The tiny GPT-2 with each named weight (model path → [in, out] values) increased by the given ΔWᵀ. */
    TinyGpt2 byHandWith(Map<String, double[]> deltas) {
        def t = new TinyGpt2(41)
        deltas.each { path, delta ->
            String name = path.substring('transformer.'.length()) + '.weight'
            double[] w = t.t(name)
            t.tensors[name] = [t.tensors[name][0], (0..<w.length).collect { w[it] + delta[it] } as double[]]
        }
        t
    }

    static double maxDiff(float[] a, float[] b) {
        assert a.length == b.length
        double m = 0
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
        m
    }

    static float[] flat(double[][] x) { x.collectMany { it as List } as float[] }
}
