package org.peft4j.peft.lora

import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.models.core.CausalLm
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.models.llama.TinyLlama
import org.peft4j.nn.Module
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * A run that starts LoRA with PiSSA or OLoRA trains on a residual base; what it saves
 * (init_lora_weights "pissa" / "olora" and the trained A, B) reloads on the original base as
 * PeftModel.from_pretrained reloads it: the init is repeated there, which rebuilds the residual.
 */
class ResidualInitReloadSpec extends Specification {

    NDManager m = Backend.get().manager()

    @TempDir
    Path tmp

    static final long[][] IDS = [[3, 17, 0, 9, 22, 5, 11], [4, 4, 8, 1, 30, 2, 6]]

    float[] logits(CausalLm lm) {
        try (def s = new StepScope()) {
            return lm.forward(m.create(IDS), null, null, null).toFloatArray()
        }
    }

    static double maxDiff(float[] a, float[] b) {
        (0..<a.length).collect { Math.abs(a[it] - b[it]) }.max() as double
    }

    def "a #init run's saved adapter reloads on the original base with the trained model's outputs"() {
        given: 'an adapter initialised by #init, then moved as training would move it'
        Path base = new TinyLlama(7).writeTo(tmp.resolve('base'))
        Backend.get().seed(3)
        CausalLm trained = Registry.load(base, Task.CAUSAL_LM)
        def lora = LoraInjector.inject((Module) trained, LoraConfig.builder().r(2).alpha(4).targets('q_proj', 'v_proj')
                .init(init).build(), m)
        lora.layers().values().each { l ->
            [l.loraA().weight(), l.loraB().weight()].each { p -> p.set(p.value().add(m.randomNormal(0f, 0.2f, p.value().shape, DataType.FLOAT32))) }
        }
        float[] expected = logits(trained)
        lora.save(tmp.resolve('adapter'), 'CAUSAL_LM', base.toString())

        when: 'loaded on the original base'
        CausalLm reloaded = Registry.load(base, Task.CAUSAL_LM)
        PeftAdapters.load(tmp.resolve('adapter'), (Module) reloaded)

        and: 'and, for contrast, applied as plain LoRA on the unchanged base (what ignoring the init gives)'
        CausalLm plain = Registry.load(base, Task.CAUSAL_LM)
        def cfg = AdapterFiles.readConfig(tmp.resolve('adapter')).toBuilder().init(LoraInit.KAIMING_UNIFORM).build()
        def plainLora = LoraInjector.inject((Module) plain, cfg, m)
        plainLora.adapterParameters().each { k, p -> p.set(lora.adapterParameters()[k].value()) }

        then:
        maxDiff(logits(reloaded), expected) < 1e-5
        maxDiff(logits(plain), expected) > 1e-2

        where:
        init << [LoraInit.PISSA, LoraInit.OLORA]
    }
}
