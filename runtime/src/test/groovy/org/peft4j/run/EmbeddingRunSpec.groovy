package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.data.DataConfig
import org.peft4j.data.DataFileException
import org.peft4j.data.PairJsonl
import org.peft4j.embedding.LossKind
import org.peft4j.embedding.PoolingMode
import org.peft4j.embedding.TinyEncoderDir
import org.peft4j.io.SafeTensors
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
import org.peft4j.train.Checkpoints
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * End to end on the tiny random BERT: 8 synthetic pairs (word w(4+i) belongs with word w(12+i)),
 * retrieval of each anchor's partner among the 8 positives, before and after a short LoRA run.
 */
class EmbeddingRunSpec extends Specification {

    @TempDir
    Path tmp

    static final ObjectMapper JSON = new ObjectMapper()

    Path jsonl(String name, List<Map> rows) {
        def f = tmp.resolve(name)
        Files.write(f, rows.collect { JSON.writeValueAsString(it) })
        f
    }

    RunConfig config(LossKind loss, Path train, int epochs, LoraConfig lora, double lr, double dropout,
                     String dtype = 'float32') {
        def queries = jsonl('queries.jsonl', (0..<8).collect { [id: "q$it".toString(), text: "w${4 + it}".toString(), relevant: ["d$it".toString()]] })
        def corpus = jsonl('corpus.jsonl', (0..<8).collect { [id: "d$it".toString(), text: "w${12 + it}".toString()] })
        def model = TinyEncoderDir.write(tmp.resolve('model'), 3,
                [hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout]).toString()
        RunConfig.embedding('tiny-embed', new BackendConfig('cpu', dtype, 1), embeddingModel(model),
                new EmbeddingOptions(PoolingMode.MEAN, loss, 0.1), lora,
                DataConfig.embedding(train, queries, corpus, null, 8, 0),
                OptimizerConfig.adamW(lr, 0.0), ScheduleConfig.linear(0.0),
                new TrainConfig(epochs, 8, 1, 1.0, 7, 0, 0, 8))
    }

    static ModelSpec embeddingModel(String dir) {
        new ModelSpec(null, Path.of(dir), TaskType.EMBEDDING, [])
    }

    def "a short InfoNCE LoRA run on synthetic pairs lowers the loss, raises MRR and writes the run directory (#dtype)"() {
        given:
        def train = jsonl('pairs.jsonl', (0..<8).collect { [anchor: "w${4 + it}".toString(), positive: "w${12 + it}".toString()] })
        // the words' meaning lives in their embeddings, so those train in full next to the adapter
        def lora = LoraConfig.of(4, 8, 0.0, ['query', 'key', 'value', 'dense'], ['word_embeddings'])
        def out = tmp.resolve("run-$dtype")

        when:
        // no dropout: in an 8-wide model it is noise enough to hide the signal of 8 pairs
        def s = FineTune.run(config(LossKind.INFONCE, train, 40, lora, 1e-2, 0.0, dtype), new RunOptions(out, null, true), TrainingListener.NONE)

        then:
        s.steps() == 40
        s.lastLoss() < s.firstLoss() * 0.5
        s.after().retrieval['mrr@10'] > s.before().retrieval['mrr@10'] + 0.3
        s.after().retrieval['recall@1'] >= 0.75

        and: 'the summary and the PEFT-layout adapter are on disk'
        def json = JSON.readTree(out.resolve('summary.json').toFile())
        json.before.retrieval.has('mrr@10') && json.after.retrieval.has('ndcg@10')
        json.loss.asText() == 'INFONCE'
        Files.exists(out.resolve('adapter/adapter_model.safetensors'))
        JSON.readTree(out.resolve('adapter/adapter_config.json').toFile()).task_type.asText() == 'FEATURE_EXTRACTION'

        where:
        // float16: frozen weights in half precision, the adapter and the trained word embeddings in float32
        dtype << ['float32', 'float16']
    }

    def "unsupervised SimCSE trains on plain sentences and lowers its loss"() {
        given:
        def train = tmp.resolve('sentences.txt')
        Files.write(train, (4..<20).collect { "w$it w${(it + 1) % 16 + 4}".toString() })
        def lora = LoraConfig.of(4, 8, 0.0, ['query', 'key', 'value', 'dense'], [])

        when:
        def s = FineTune.run(config(LossKind.SIMCSE, train, 5, lora, 3e-3, 0.1), new RunOptions(tmp.resolve('run'), null, true), TrainingListener.NONE)

        then:
        s.steps() == 10
        s.lastLoss() < s.firstLoss()
    }

    def "a SimCSE run (dropout on) resumed from its step-4 checkpoint ends with the adapter of the uninterrupted run"() {
        given:
        def train = tmp.resolve('sentences.txt')
        Files.write(train, (4..<20).collect { "w$it w${(it + 1) % 16 + 4}".toString() })
        def lora = LoraConfig.of(4, 8, 0.1, ['query', 'value'], [])
        RunConfig c = config(LossKind.SIMCSE, train, 4, lora, 3e-3, 0.1)
        c = RunConfig.embedding(c.name(), c.backend(), c.model(), c.embedding(), c.lora(), c.data(), c.optimizer(),
                c.schedule(), c.train().withCheckpoints(2, 10))

        when:
        Interrupted run = Interrupted.resumedAt(c, tmp, 4)
        def whole = run.wholeAdapter
        def resumed = run.resumedAdapter

        then:
        JSON.readTree(run.cut.resolve('summary.json').toFile()).resumed_from_step.intValue() == 4
        whole.keySet() == resumed.keySet()
        whole.every { k, v -> v == resumed[k] }
    }

    def "every problem of a configuration is reported at once"() {
        given:
        def bad = RunConfig.embedding('bad name', BackendConfig.defaults(), embeddingModel('nowhere'),
                new EmbeddingOptions(PoolingMode.MEAN, LossKind.INFONCE, 0), LoraConfig.of(0, 8, 0.0, ['query'], []),
                DataConfig.embedding(tmp.resolve('missing.jsonl'), null, tmp.resolve('c.jsonl'), null, 4, 0),
                OptimizerConfig.adamW(1e-3, 0), ScheduleConfig.linear(0), new TrainConfig(1, 1, 1, 1, 1, 0, 0, 8))

        when:
        bad.validated()

        then:
        def e = thrown(ConfigException)
        e.problems().size() >= 7
        e.message.contains('temperature = 0.0 must be in (0, 1]')
        e.message.contains('train.batchSize = 1 must be >= 2 for INFONCE')
        e.message.contains('data.queries and data.corpus go together')
    }

    def "a pair file names the file and line of a bad line"() {
        given:
        def f = tmp.resolve('pairs.jsonl')
        Files.write(f, ['{"anchor": "a", "positive": "b"}', '', '{"anchor": "a", "postive": "b"}'])

        when:
        PairJsonl.pairs(f, 0)

        then:
        def e = thrown(DataFileException)
        e.message.startsWith("$f:3: missing field 'positive'")
        e.message.contains('[anchor, postive]')
    }
}
