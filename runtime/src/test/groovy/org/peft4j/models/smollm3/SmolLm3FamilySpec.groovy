package org.peft4j.models.smollm3

import org.peft4j.config.ConfigException
import org.peft4j.models.Registry
import org.peft4j.models.core.DecoderConfig
import org.peft4j.testing.FixtureModels
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

import static org.peft4j.testing.FixtureModels.REMOVE

class SmolLm3FamilySpec extends Specification {

    @TempDir
    Path tmp

    DecoderConfig config(Map overrides) {
        (DecoderConfig) Registry.config(FixtureModels.copy('smollm3', tmp.resolve(UUID.randomUUID().toString()), overrides))
    }

    def "no_rope_layers' zeros are the layers without rotary positions; without it every interval-th layer has none"() {
        expect:
        config([:]).options().noRopeLayers() == [1] as Set
        (0..2).collect { config([:]).attention(it).rotary() } == [true, false, true]
        config([no_rope_layers: REMOVE, num_hidden_layers: 8, layer_types: REMOVE]).options().noRopeLayers() == [3, 7] as Set
        config([no_rope_layers: REMOVE, no_rope_layer_interval: 2, layer_types: REMOVE]).options().noRopeLayers() == [1] as Set
    }

    def "SmolLM3 ties its embeddings unless told otherwise, and with use_sliding_window its NoPE layers slide"() {
        expect:
        config([tie_word_embeddings: REMOVE]).tieWordEmbeddings()
        !config([tie_word_embeddings: false]).tieWordEmbeddings()
        config([use_sliding_window: true, sliding_window: 4, layer_types: REMOVE]).layerTypes()*.hfName() ==
                ['full_attention', 'sliding_attention', 'full_attention']
        config([use_sliding_window: true, sliding_window: null, layer_types: REMOVE]).layerTypes()*.hfName() ==
                ['full_attention'] * 3
    }

    def "a SmolLM3 config value that is not supported is refused by name with the supported values"() {
        when:
        config(overrides)

        then:
        def e = thrown(ConfigException)
        e.message.contains(expected)

        where:
        overrides                                   | expected
        [no_rope_layers: [1, 0]]                    | 'no_rope_layers has 2 entries for num_hidden_layers = 3; give one per layer'
        [no_rope_layers: [1, 2, 1]]                 | 'no_rope_layers = [1, 2, 1] has values other than 0 and 1 at [1]; valid: 1'
        [no_rope_layers: REMOVE, no_rope_layer_interval: 0] | 'no_rope_layer_interval = 0 must be > 0'
        [layer_types: ['full_attention', 'sliding_attention', 'full_attention']] | 'but use_sliding_window = false and sliding_window = null'
    }
}
