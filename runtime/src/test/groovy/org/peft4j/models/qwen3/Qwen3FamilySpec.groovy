package org.peft4j.models.qwen3

import org.peft4j.config.ConfigException
import org.peft4j.models.Registry
import org.peft4j.models.core.Activation
import org.peft4j.models.core.DecoderConfig
import org.peft4j.testing.FixtureModels
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

import static org.peft4j.testing.FixtureModels.REMOVE

class Qwen3FamilySpec extends Specification {

    @TempDir
    Path tmp

    DecoderConfig config(Map overrides) {
        (DecoderConfig) Registry.config(FixtureModels.copy('qwen3', tmp.resolve(UUID.randomUUID().toString()), overrides))
    }

    def "Qwen3's config has q/k norms, biases only with attention_bias, head_dim 128 when absent, and Qwen2's sliding rule"() {
        expect:
        config([:]).options().qkNorm()
        !config([:]).qkvBias() && !config([:]).outputBias() && !config([:]).mlpBias()
        config([attention_bias: true]).with { qkvBias() && outputBias() && !mlpBias() }
        config([head_dim: REMOVE]).headDim() == 128
        config([:]).headDim() == 16
        config([:]).activation() == Activation.SILU
        config([use_sliding_window: true, sliding_window: 4, max_window_layers: 1, layer_types: REMOVE])
                .layerTypes()*.hfName() == ['full_attention', 'sliding_attention']
        config([use_sliding_window: true, sliding_window: 4, max_window_layers: 1, layer_types: REMOVE]).slidingWindow() == 4
        !config([:]).tieWordEmbeddings()
        config([tie_word_embeddings: true]).tieWordEmbeddings()
    }

    def "a Qwen3 config value that is not supported is refused by name with the supported values"() {
        when:
        config(overrides)

        then: 'a ConfigException, or the registry refusing a model_type'
        def e = thrown(IllegalArgumentException)
        e instanceof ConfigException || overrides.model_type
        e.message.contains(expected)

        where:
        overrides                                              | expected
        [hidden_act: 'relu2']                                  | "hidden_act = 'relu2' is not supported; valid: 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'silu', 'swish'"
        [layer_types: ['full_attention', 'sliding_attention']] | 'layer_types has sliding_attention layers but use_sliding_window = false'
        [rope_parameters: [rope_type: 'longrope']]             | "rope_parameters.rope_type = 'longrope' is not supported; valid: 'default', 'linear', 'dynamic', 'llama3', 'yarn'"
        [model_type: 'qwen3_moe']                              | "model_type = 'qwen3_moe'"
    }
}
