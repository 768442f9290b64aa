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

/** LoRA and AdaLoRA on GPT-2's Conv1D layers: start, merge, gradients and a short run, against the hand math. */
class Gpt2AdaptersSpec extends Gpt2AdapterFixture {

    def "a fresh #method adapter on every Conv1D leaves GPT-2's logits unchanged"() {
        given:
        def lm = fresh()
        def before = logits(lm)

        when:
        def adapter = inject(method, lm)

        then:
        adapter.layers().keySet() == PATHS as Set
        adapter.layers().values().every { it.fanInFanOut() && it.baseLayer() instanceof Conv1D }
        maxDiff(logits(lm), before) == 0
        maxDiff(before, flat(tiny.logits(IDS))) < 1e-4

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "#method on GPT-2 computes the hand forward with W + ΔWᵀ; merged weights are exactly that in [in, out] and give the unmerged logits"() {
        given:
        def lm = fresh()
        def adapter = inject(method, lm)
        perturb(adapter)
        if (method == 'AdaLoRA') {
            adapter.layers()['transformer.h.0.attn.c_attn'].setMask(m.create([1f, 0f, 1f, 1f, 0f, 1f] as float[]))
        }
        Map<String, double[]> deltas = adapter.layers().collectEntries { p, l -> [p, deltaInOut(l)] }
        Map<String, float[]> original = adapter.layers().collectEntries { p, l -> [p, l.baseWeight().value().toFloatArray()] }
        def hand = byHandWith(deltas)

        when:
        def unmerged = logits(lm)

        then: 'the adapter changes the logits, to what the hand forward with W + ΔWᵀ gives'
        maxDiff(unmerged, flat(tiny.logits(IDS))) > 0.1
        maxDiff(unmerged, flat(hand.logits(IDS))) < 1e-4

        when:
        adapter.merge()

        then: 'each merged weight is W + ΔWᵀ, still [in, out]'
        adapter.layers().every { p, l ->
            def w = l.baseWeight().value()
            float[] expected = (0..<original[p].length).collect { original[p][it] + deltas[p][it] } as float[]
            w.shape == new Shape(l.inFeatures(), l.outFeatures()) && maxDiff(w.toFloatArray(), expected) < 1e-5
        }
        maxDiff(logits(lm), unmerged) < 1e-5

        when:
        adapter.unmerge()

        then:
        adapter.layers().every { p, l -> maxDiff(l.baseWeight().value().toFloatArray(), original[p]) < 1e-5 }
        maxDiff(logits(lm), unmerged) < 1e-5

        when: 'merge and unload: plain Conv1D layers again'
        def plain = adapter.mergeAndUnload()

        then:
        PATHS.every { plain.module(it) instanceof Conv1D }
        !plain.namedModules().values().any { it instanceof LoraLinear || it instanceof SvdLinear }
        maxDiff(logits(lm), unmerged) < 1e-5

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "only #method's adapter parameters get gradients from the causal-LM loss"() {
        given:
        def lm = fresh()
        def adapter = inject(method, lm)
        perturb(adapter)
        Collection<Parameter> own = adapter.adapterParameters().values()
        def ids = m.create([IDS as long[]] as long[][])

        when:
        try (def s = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            gc.backward(CausalLmLoss.loss(lm.forward(ids, null), ids))
        }

        then:
        own.size() == PATHS.size() * (method == 'LoRA' ? 2 : 3)
        own.every { it.trainable() && it.value().gradient.abs().sum().getFloat() > 0 }
        def frozen = lm.namedParameters().findAll { n, p -> !own.any { it.is(p) } }
        frozen.size() + own.size() == lm.namedParameters().size()
        frozen.keySet().containsAll(PATHS.collect { "${it}.base_layer.weight".toString() })
        frozen.every { n, p -> !p.trainable() && !p.value().hasGradient() }

        cleanup:
        own.each { it.zeroGrad() }

        where:
        method << ['LoRA', 'AdaLoRA']
    }

    def "a short #method run lowers the causal-LM loss on the response tokens of a tiny GPT-2"() {
        given: 'prompts of 5 random tokens, each answered by the same 5 tokens; only the answer is scored'
        def lm = fresh()
        def adapter = inject(method, lm)
        def random = new Random(3)
        List<Integer> answer = [4, 11, 19, 2, 7]
        long[][] ids = (0..<8).collect { ((0..<5).collect { random.nextInt(TinyGpt2.VOCAB) } + answer) as long[] } as long[][]
        long[][] labels = ids.collect { row -> (0..<row.length).collect { it < 5 ? CausalLmLoss.IGNORE : row[it] } as long[] } as long[][]
        def x = m.create(ids)
        def y = m.create(labels)
        def loss = {
            try (def s = new StepScope()) {
                return CausalLmLoss.loss(lm.forward(x, null), y).getFloat()
            }
        }
        def opt = new AdamW(adapter.adapterParameters().values() as List, 0.9, 0.999, 1e-8, 0)
        def hook = adapter instanceof AdaLoraModel ? adapter.hook(40) : null
        float before = loss()

        when:
        for (int step = 1; step <= 40; step++) {
            try (def s = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
                def l = CausalLmLoss.loss(lm.forward(x, null), y)
                def extra = hook?.extraLoss()
                gc.backward(extra == null ? l : l.add(extra))
            }
            hook?.afterBackward(step)
            opt.step(2e-2)
            hook?.afterOptimizerStep(step)
            opt.zeroGrad()
        }
        float after = loss()

        then:
        after < 0.5 * before
        hook == null || adapter.ranks().values().sum() == 3 * PATHS.size()

        cleanup:
        opt?.close()

        where:
        method << ['LoRA', 'AdaLoRA']
    }
}
