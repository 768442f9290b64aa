package org.peft4j.models

import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.models.core.LayerType
import org.peft4j.models.core.Task
import org.peft4j.models.core.TokenEncoder
import org.peft4j.models.deberta.DebertaV2Config
import org.peft4j.models.deberta.PositionAttention
import org.peft4j.models.modernbert.ModernBertConfig
import org.peft4j.nn.Module
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * ModernBERT's and DeBERTa-v2's config.json: Transformers 4.x spellings read as their 5.x equivalents,
 * and every value that would change the math but is not supported is refused by name, with the valid ones.
 */
class EncoderConfigSpec extends Specification {

    @TempDir
    Path tmp

    NDManager m = Backend.get().manager()

    /** The fixture's model directory with its config.json changed: {@code changes} set (null removes a field). */
    Path edited(String fixture, Map changes) {
        Path src = HfFixture.load(fixture).modelDir
        Path dir = Files.createDirectories(tmp.resolve(UUID.randomUUID().toString()))
        Map config = new ObjectMapper().readValue(src.resolve('config.json').toFile(), Map)
        changes.each { k, v -> v == null ? config.remove(k) : config.put(k, v) }
        new ObjectMapper().writeValue(dir.resolve('config.json').toFile(), config)
        Files.copy(src.resolve('model.safetensors'), dir.resolve('model.safetensors'))
        dir
    }

    def "a Transformers 4.x ModernBERT config (global_attn_every_n_layers, global and local rope thetas) reads as the 5.x one and gives its outputs"() {
        given:
        HfFixture fx = HfFixture.load('modernbert-base')
        Path dir = edited('modernbert-base', [layer_types: null, rope_parameters: null, global_attn_every_n_layers: 3,
                                              global_rope_theta: 160000.0, local_rope_theta: 10000.0])

        when:
        ModernBertConfig c = (ModernBertConfig) Registry.config(dir)
        TokenEncoder encoder = Registry.load(dir, Task.ENCODER)
        ((Module) encoder).train(false)
        double d
        try (def s = new StepScope()) {
            d = HfFixture.compare(encoder.forward(fx.inputIds(m), fx.attentionMask(m), null),
                    fx.expected('last_hidden_state', m)).max
        } finally {
            ((Module) encoder).namedParameters().values().each { it.value().close() }
        }

        then:
        c.layerTypes() == [LayerType.FULL_ATTENTION, LayerType.SLIDING_ATTENTION, LayerType.SLIDING_ATTENTION]
        c.globalRope().theta() == 160000.0d
        c.localRope().theta() == 10000.0d
        c.halfWindow() == 4
        d <= fx.tolerance
    }

    def "DeBERTa's pos_att_type reads as a list or as 4.x's 'p2c|c2p' string"() {
        expect:
        ((DebertaV2Config) Registry.config(edited('deberta-v2-base', [pos_att_type: value]))).positionAttention() == expected as Set

        where:
        value            | expected
        ['p2c', 'c2p']   | [PositionAttention.P2C, PositionAttention.C2P]
        'p2c|c2p'        | [PositionAttention.P2C, PositionAttention.C2P]
        'C2P'            | [PositionAttention.C2P]
        null             | []
    }

    def "#fixture: #changes is refused by name with the supported values"() {
        when:
        Registry.load(edited(fixture, changes), Task.ENCODER)

        then:
        def e = thrown(ConfigException)
        e.message.contains(expected)
        e.message.contains('config.json')

        where:
        fixture           | changes                                                   | expected
        'modernbert-base' | [classifier_pooling: 'max']                               | "classifier_pooling = 'max' is not supported; valid: 'cls', 'mean'"
        'modernbert-base' | [hidden_activation: 'relu']                               | "hidden_activation = 'relu' is not supported; valid: 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'silu', 'swish'"
        'modernbert-base' | [layer_types: ['full_attention', 'chunked_attention', 'sliding_attention']] | "layer_types[1] = 'chunked_attention' is not supported; valid: 'full_attention', 'sliding_attention'"
        'modernbert-base' | [layer_types: ['full_attention']]                         | 'layer_types has 1 entries for num_hidden_layers = 3'
        'modernbert-base' | [rope_parameters: [full_attention: [rope_type: 'default', rope_theta: 1e4], sliding_attention: [rope_type: 'longrope']]] | "rope_parameters.sliding_attention.rope_type = 'longrope' is not supported; valid: 'default', 'linear', 'dynamic', 'llama3', 'yarn'"
        'modernbert-base' | [local_attention: 0]                                      | 'local_attention = 0 must be > 0'
        'modernbert-base' | [model_type: 'modernbert', hidden_size: 30]               | 'hidden_size = 30 must split into num_attention_heads = 2 heads of an even width'
        'deberta-v2-base' | [conv_kernel_size: 3]                                     | "conv_kernel_size = 3 is not supported (DeBERTa-v2's convolution after the first layer); valid: 0 or absent"
        'deberta-v2-base' | [pos_att_type: ['c2p', 'p2p']]                            | "pos_att_type entry 'p2p' is not supported; valid: 'c2p', 'p2c'"
        'deberta-v2-base' | [norm_rel_ebd: 'batch_norm']                              | "norm_rel_ebd = 'batch_norm' is not supported; valid: 'none', 'layer_norm'"
        'deberta-v2-base' | [pooler_hidden_size: 16]                                  | 'pooler_hidden_size = 16 must equal hidden_size = 32'
        'deberta-v2-base' | [hidden_act: 'relu']                                      | "hidden_act = 'relu' is not supported; valid: 'gelu'"
        'deberta-v2-base' | [hidden_dropout_prob: 1.0]                                | 'hidden_dropout_prob = 1.0 must be in [0, 1)'
    }
}
