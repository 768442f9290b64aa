package org.peft4j.export

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.ChatMessage
import org.peft4j.data.ChatTemplate
import org.peft4j.io.SafeTensors
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.Registry
import org.peft4j.models.core.CausalLm
import org.peft4j.models.core.EncoderModel
import org.peft4j.models.core.SequenceClassifier
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.peft.files.PeftAdapters
import org.peft4j.run.Predictor
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import org.peft4j.testing.Peft4jArtifacts
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The peft4j → Hugging Face half of the interop suite: each artifact peft4j writes (merged classifiers
 * and decoders, a run's adapter, an AdaLoRA adapter and its LoRA export) is rebuilt here as
 * {@link Peft4jArtifacts} builds it, and must have the files and config the standard classes were
 * given when tools/hf-fixtures/record_peft4j.py recorded their outputs (peft4j-hf/&lt;case&gt;/expected.json),
 * and give those outputs to 1e-4. With {@code -Dpeft4j.interop.out=DIR} the artifacts are also copied to
 * DIR, for the recording script.
 */
class Peft4jToHfSpec extends Specification {

    static final ObjectMapper JSON = new ObjectMapper()

    @Shared
    NDManager m = Backend.get().manager()

    @TempDir
    Path tmp

    Peft4jArtifacts.Built built

    def cleanup() {
        built?.free()
    }

    HfFixture expected(String name) {
        HfFixture.load(Peft4jArtifacts.ROOT, name)
    }

    Peft4jArtifacts.Built build(String name) {
        built = Peft4jArtifacts.build(name, tmp.resolve(name))
        String out = System.getProperty('peft4j.interop.out')
        if (out) {
            Path to = Path.of(out).resolve(name)
            if (Files.exists(to)) {
                to.toFile().deleteDir()
            }
            Peft4jArtifacts.copyTree(built.dir, to)
        }
        built
    }

    def "#name: the artifact's files, tensor names and shapes, and config fields are the ones Transformers and PEFT were given"() {
        given:
        def artifact = build(name)
        def fx = expected(name)

        expect: 'every recorded safetensors file has exactly the recorded tensors and shapes'
        ((Map<String, Map<String, List>>) fx.doc.files).each { String file, Map<String, List> shapes ->
            Map<String, List> actual = SafeTensors.header(artifact.dir.resolve(file)).collectEntries { k, e ->
                [k, e.shape() as List]
            }
            assert actual == shapes.collectEntries { k, v -> [k, v.collect { it as long }] }: file
        }

        and: 'every recorded directory listing and JSON field is the same'
        ((Map<String, List>) fx.doc.listings).each { String d, List files ->
            assert listing(artifact.dir.resolve(d)) == files: d
        }
        ((Map<String, Map>) fx.doc.json).each { String file, Map fields ->
            JsonNode actual = JSON.readTree(artifact.dir.resolve(file).toFile())
            fields.each { String field, Object value ->
                assert actual.path(field) == JSON.valueToTree(value): "$file: $field"
            }
        }

        where:
        name << Peft4jArtifacts.CASES
    }

    def "a quickstart-style BERT classifier (new pooler and classifier trained) merges into what AutoModelForSequenceClassification and pipeline(truncation=True) compute"() {
        given:
        def artifact = build('merged-bert-new-pooler')
        def fx = expected('merged-bert-new-pooler')
        Path merged = artifact.dir.resolve('merged')

        when:
        double inMemory = logitsDiff(fx, (SequenceClassifier) artifact.model, 'logits')
        SequenceClassifier reloaded = Registry.load(merged, Task.sequenceClassification(3, 99))
        double fromDir = logitsDiff(fx, reloaded, 'logits')
        double pipeline = predictorDiff(fx, merged, null, 'pipeline_logits')

        then: 'the in-memory model with its adapter, the merged directory, and predict on long texts cut to 64 tokens'
        inMemory <= fx.tolerance
        fromDir <= fx.tolerance
        pipeline <= fx.tolerance

        cleanup:
        free(reloaded)
    }

    def "a mean-pooled classifier merges into sentence-transformers' layout, whose encode() gives its logits"() {
        given:
        def artifact = build('merged-bert-mean')
        def fx = expected('merged-bert-mean')

        expect:
        logitsDiff(fx, (SequenceClassifier) artifact.model, 'st_logits') <= fx.tolerance
        predictorDiff(fx, artifact.dir.resolve('merged'), null, 'st_logits') <= fx.tolerance
    }

    def "#name merges into the classifier AutoModelForSequenceClassification loads, with the logits of base + adapter"() {
        given:
        def artifact = build(name)
        def fx = expected(name)

        when:
        double inMemory = logitsDiff(fx, (SequenceClassifier) artifact.model, 'logits')
        SequenceClassifier reloaded = Registry.load(artifact.dir.resolve('merged'), Task.sequenceClassification(labels, 99))
        double fromDir = logitsDiff(fx, reloaded, 'logits')

        then:
        inMemory <= fx.tolerance
        fromDir <= fx.tolerance

        cleanup:
        free(reloaded)

        where:
        name                    | labels
        'merged-roberta-seqcls' | 3
        'merged-qwen2-seqcls'   | 2
    }

    def "an embedding adapter on every linear layer, the pooler's included, merges into what AutoModel computes"() {
        given:
        def artifact = build('merged-bert-embedding')
        def fx = expected('merged-bert-embedding')
        EncoderModel reloaded = (EncoderModel) Registry.load(artifact.dir.resolve('merged'), Task.ENCODER)

        expect:
        encoderDiff(fx, (EncoderModel) artifact.model).every { it <= fx.tolerance }
        encoderDiff(fx, reloaded).every { it <= fx.tolerance }

        cleanup:
        free(reloaded)
    }

    def "a merged Mistral with a sliding window gives AutoModelForCausalLM's logits and NLL"() {
        given:
        def artifact = build('merged-mistral-sliding')
        def fx = expected('merged-mistral-sliding')
        CausalLm reloaded = Registry.load(artifact.dir.resolve('merged'), Task.CAUSAL_LM)

        expect:
        causalDiff(fx, (CausalLm) artifact.model).every { it <= fx.tolerance }
        causalDiff(fx, reloaded).every { it <= fx.tolerance }

        cleanup:
        free(reloaded)
    }

    def "a PiSSA adapter peft4j saves loads in PeftModel on the original base with peft4j's outputs"() {
        given: 'PeftModel runs the PiSSA init again on the base it is given, as peft4j does on load'
        def artifact = build('pissa-llama')
        def fx = expected('pissa-llama')
        CausalLm reloaded = Registry.load(artifact.dir.resolve('base'), Task.CAUSAL_LM)
        PeftAdapters.load(artifact.dir.resolve('adapter'), (Module) reloaded)

        expect:
        causalDiff(fx, (CausalLm) artifact.model).every { it <= fx.tolerance }
        causalDiff(fx, reloaded).every { it <= fx.tolerance }

        cleanup:
        free(reloaded)
    }

    def "a merged Llama gives AutoModelForCausalLM's logits and NLL, and keeps the chat template that check and run read"() {
        given:
        def artifact = build('merged-llama-causal')
        def fx = expected('merged-llama-causal')
        Path merged = artifact.dir.resolve('merged')
        List<ChatMessage> messages = ((List<Map>) fx.doc.inputs.messages).collect { new ChatMessage(it.role, it.content) }

        when:
        def inMemory = causalDiff(fx, (CausalLm) artifact.model)
        CausalLm reloaded = Registry.load(merged, Task.CAUSAL_LM)
        def fromDir = causalDiff(fx, reloaded)
        ChatTemplate template = ChatTemplate.recognise(ChatTemplate.ownJinja(merged))

        then:
        inMemory.every { it <= fx.tolerance }
        fromDir.every { it <= fx.tolerance }
        template == ChatTemplate.CHATML
        template.render(messages, true).collect { it.text() }.join('') == fx.outputs.chat_text

        cleanup:
        free(reloaded)
    }

    def "the adapter of a peft4j run loads in PeftModel with the logits predict computes"() {
        given:
        def artifact = build('run-lora-bert')
        def fx = expected('run-lora-bert')

        expect:
        predictorDiff(fx, artifact.dir.resolve('base'), artifact.dir.resolve('adapter'), 'logits') <= fx.tolerance
    }

    def "an AdaLoRA adapter with a module at rank 0 and its LoRA export load in PeftModel with peft4j's logits"() {
        given:
        def artifact = build('adalora-bert')
        def fx = expected('adalora-bert')
        Path base = artifact.dir.resolve('base')

        when:
        double adalora = logitsDiff(fx, (SequenceClassifier) artifact.model, 'logits')
        SequenceClassifier lora = Registry.load(base, Task.sequenceClassification(2, 99))
        PeftAdapters.load(artifact.dir.resolve('lora'), (Module) lora)
        double exported = logitsDiff(fx, lora, 'lora_logits')

        then:
        adalora <= fx.tolerance
        exported <= fx.tolerance

        cleanup:
        free(lora)
    }

    /** Max |Δ| of {@code model}'s logits on the recorded batch against the recorded {@code key}. */
    double logitsDiff(HfFixture fx, SequenceClassifier model, String key) {
        ((Module) model).train(false)
        try (def s = new StepScope()) {
            return HfFixture.compare(model.forward(fx.inputIds(m), fx.attentionMask(m), null), fx.expected(key, m)).max
        }
    }

    /** Max |Δ| of the last hidden state and the pooler output. */
    List<Double> encoderDiff(HfFixture fx, EncoderModel encoder) {
        encoder.train(false)
        try (def s = new StepScope()) {
            NDArray hidden = encoder.forward(fx.inputIds(m), fx.attentionMask(m), null)
            return [HfFixture.compare(hidden, fx.expected('last_hidden_state', m)).max,
                    HfFixture.compare(encoder.pooled(hidden), fx.expected('pooler_output', m)).max]
        }
    }

    /** Max |Δ| of predict's logits on the recorded texts (cut to the model's limit) against {@code key}. */
    double predictorDiff(HfFixture fx, Path modelDir, Path adapterDir, String key) {
        List<String> texts = (List<String>) fx.doc.inputs.texts
        Predictor.open(modelDir, adapterDir, null, 0).withCloseable { p ->
            float[][] rows = p.logits(texts, 4)
            NDArray actual = m.create(rows)
            try {
                return HfFixture.compare(actual, fx.expected(key, m)).max
            } finally {
                actual.close()
            }
        }
    }

    /** Max |Δ| of the logits at the recorded positions and of the per-row NLL. */
    List<Double> causalDiff(HfFixture fx, CausalLm lm) {
        ((Module) lm).train(false)
        try (def s = new StepScope()) {
            NDArray ids = fx.inputIds(m), mask = fx.attentionMask(m)
            NDArray logits = lm.forward(ids, mask, fx.plainPositionIds(m), null)
            double at = HfFixture.compare(fx.atPositions(logits), fx.expected('logits_at', m)).max
            NDArray labels = fx.labels(m)
            List<Double> rows = (0..<ids.shape.get(0)).collect { long r ->
                CausalLmLoss.loss(logits.get(r).expandDims(0), labels.get(r).expandDims(0)).getFloat() as double
            }
            return [at, HfFixture.compare(rows, fx.doubles('nll')).max]
        }
    }

    static List<String> listing(Path dir) {
        Files.walk(dir).withCloseable { paths ->
            paths.filter { Files.isRegularFile(it) }.collect { dir.relativize(it).toString() }.sort()
        }
    }

    static void free(Object model) {
        ((Module) model)?.namedParameters()?.values()?.each { it.value().close() }
    }
}
