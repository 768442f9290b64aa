package org.peft4j.models.gemma3

import ai.djl.ndarray.NDManager
import org.peft4j.config.ConfigException
import org.peft4j.models.Registry
import org.peft4j.models.core.Activation
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.DecoderConfig
import org.peft4j.models.core.LayerType
import org.peft4j.models.core.RopeType
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.nn.RMSNorm
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.FixtureModels
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

import static org.peft4j.testing.FixtureModels.REMOVE

class Gemma3FamilySpec extends Specification {

    @TempDir
    Path tmp

    NDManager m = Backend.get().manager()

    Path dir(Map overrides) {
        FixtureModels.copy('gemma3-text', tmp.resolve(UUID.randomUUID().toString()), overrides)
    }

    DecoderConfig config(Map overrides) {
        (DecoderConfig) Registry.config(dir(overrides))
    }

    def "Gemma 3's config reads its scales, norms, soft-cap and the rotary parameters of each layer type"() {
        given:
        DecoderConfig c = config([:])

        expect:
        c.options().with { qkNorm() && unitOffsetNorms() && sandwichNorms() && queryPreAttnScalar() == 24 }
        c.options().embeddingScale() == Math.sqrt(32)
        c.attention(0).scale() == 1 / Math.sqrt(24)
        c.rope(LayerType.FULL_ATTENTION).with { type() == RopeType.LINEAR && theta() == 1e6 && factor() == 8 }
        c.rope(LayerType.SLIDING_ATTENTION).with { type() == RopeType.DEFAULT && theta() == 1e4 }
        c.activation() == Activation.GELU_TANH
        c.tieWordEmbeddings()
        c.options().finalLogitSoftCap() == 0
        config([final_logit_softcapping: 30.0]).options().finalLogitSoftCap() == 30
        config([tie_word_embeddings: REMOVE]).tieWordEmbeddings()
    }

    def "without layer_types every sliding_window_pattern-th layer is global (6 by default), and the bases default to 1e6 and 1e4"() {
        given:
        DecoderConfig c = config([layer_types: REMOVE, num_hidden_layers: 7, rope_parameters: REMOVE])

        expect:
        c.layerTypes().collect { it == LayerType.FULL_ATTENTION ? 'F' : 's' }.join() == 'sssssFs'
        config([layer_types: REMOVE, sliding_window_pattern: 2]).layerTypes().collect { it == LayerType.FULL_ATTENTION ? 'F' : 's' }.join() == 'sFs'
        c.rope(LayerType.FULL_ATTENTION).with { type() == RopeType.DEFAULT && theta() == 1e6 }
        c.rope(LayerType.SLIDING_ATTENTION).theta() == 1e4
        config([rope_parameters: REMOVE, rope_theta: 5e5, rope_local_base_freq: 5e3]).with {
            rope(LayerType.FULL_ATTENTION).theta() == 5e5 && rope(LayerType.SLIDING_ATTENTION).theta() == 5e3
        }
        config([:]).slidingWindow() == 8
        config([sliding_window: REMOVE]).slidingWindow() == 4096
    }

    def "every norm scales by 1 + w and random init leaves w at zero, as Transformers' Gemma3RMSNorm"() {
        when:
        Module lm = (Module) Registry.random(dir([:]), Task.CAUSAL_LM, 3)
        def norms = lm.namedModules().findAll { k, v -> v instanceof RMSNorm }

        then:
        norms.size() == 3 * 6 + 1
        norms.keySet().findAll { it.startsWith('model.layers.0.') }*.minus('model.layers.0.') as Set ==
                ['self_attn.q_norm', 'self_attn.k_norm', 'input_layernorm', 'post_attention_layernorm',
                 'pre_feedforward_layernorm', 'post_feedforward_layernorm'] as Set
        norms.values().every { ((RMSNorm) it).isUnitOffset() && ((RMSNorm) it).weight().value().toFloatArray().every { it == 0f } }

        cleanup:
        lm?.namedParameters()?.values()?.each { it.value().close() }
    }

    def "attn_logit_softcapping changes nothing, as in Transformers' Gemma3Attention"() {
        given:
        HfFixture fx = HfFixture.load('gemma3-softcap')
        CausalLm capped = Registry.load(fx.modelDir, Task.CAUSAL_LM)
        CausalLm uncapped = Registry.load(FixtureModels.copy('gemma3-softcap', tmp.resolve('off'),
                [attn_logit_softcapping: null]), Task.CAUSAL_LM)

        when:
        double difference
        try (def s = new StepScope()) {
            difference = HfFixture.compare(capped.forward(fx.inputIds(m), fx.attentionMask(m), null, null),
                    uncapped.forward(fx.inputIds(m), fx.attentionMask(m), null, null)).max
        }

        then:
        difference == 0

        cleanup:
        [capped, uncapped].each { ((Module) it)?.namedParameters()?.values()?.each { it.value().close() } }
    }

    def "a Gemma 3 config value that is not supported is refused by name with the supported values"() {
        when:
        config(overrides)

        then: 'a ConfigException, or the registry refusing a model_type'
        def e = thrown(IllegalArgumentException)
        e instanceof ConfigException || overrides.model_type
        e.message.contains(expected)

        where:
        overrides                                               | expected
        [use_bidirectional_attention: true]                     | 'use_bidirectional_attention = true (EmbeddingGemma) is not supported; valid: false'
        [rope_parameters: [rope_type: 'default', rope_theta: 1e4]] | 'gives one set for every layer, which gemma3_text does not read; valid: an object per layer type'
        [rope_parameters: [full_attention: [rope_type: 'longrope'], sliding_attention: [rope_type: 'default']]] | "rope_parameters.full_attention.rope_type = 'longrope' is not supported; valid: 'default', 'linear', 'dynamic', 'llama3', 'yarn'"
        [rope_scaling: [rope_type: 'linear'], rope_parameters: REMOVE] | "rope_scaling.factor is missing; rope_type 'linear' needs it"
        [sliding_window: null]                                  | 'sliding_window = null but layer_types has sliding_attention layers; give a window > 0'
        [hidden_activation: 'relu']                             | "hidden_activation = 'relu' is not supported; valid: 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'silu', 'swish'"
        [query_pre_attn_scalar: 0]                              | 'query_pre_attn_scalar = 0.0 must be > 0'
        [model_type: 'gemma3']                                  | "model_type = 'gemma3'"
    }
}
