package org.peft4j.embedding

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.data.DataFileException
import org.peft4j.data.PairJsonl
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.BackendConfig
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
class EmbeddingFineTuneSpec extends Specification {

    @TempDir
    Path tmp

    static final ObjectMapper JSON = new ObjectMapper()

    Path jsonl(String name, List<Map> rows) {
        def f = tmp.resolve(name)
        Files.write(f, rows.collect { JSON.writeValueAsString(it) })
        f
    }

    EmbeddingRunConfig config(LossKind loss, Path train, int epochs, LoraConfig lora, double lr, double dropout,
                               String dtype = 'float32') {
        def queries = jsonl('queries.jsonl', (0..<8).collect { [id: "q$it".toString(), text: "w${4 + it}".toString(), relevant: ["d$it".toString()]] })
        def corpus = jsonl('corpus.jsonl', (0..<8).collect { [id: "d$it".toString(), text: "w${12 + it}".toString()] })
        def model = TinyEncoderDir.write(tmp.resolve('model'), 3,
                [hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout]).toString()
        new EmbeddingRunConfig('tiny-embed', new BackendConfig('cpu', dtype, 1), model,
                PoolingMode.MEAN, lora, loss, 0.1,
                new EmbeddingDataConfig(train, queries, corpus, null, 8, 0),
                OptimizerConfig.adamW(lr, 0.0), ScheduleConfig.linear(0.0),
                new TrainConfig(epochs, 8, 1, 1.0, 7, 0, 0, 8))
    }

    def "a short InfoNCE LoRA run on synthetic pairs lowers the loss, raises MRR and writes the run directory (#dtype)"() {
        given:
        def train = jsonl('pairs.jsonl', (0..<8).collect { [anchor: "w${4 + it}".toString(), positive: "w${12 + it}".toString()] })
        // the words' meaning lives in their embeddings, so those train in full next to the adapter
        def lora = LoraConfig.of(4, 8, 0.0, ['query', 'key', 'value', 'dense'], ['word_embeddings'])
        def out = tmp.resolve("run-$dtype")

        when:
        // no dropout: in an 8-wide model it is noise enough to hide the signal of 8 pairs
        def s = EmbeddingFineTune.run(config(LossKind.INFONCE, train, 40, lora, 1e-2, 0.0, dtype), out, TrainingListener.NONE)

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
        def s = EmbeddingFineTune.run(config(LossKind.SIMCSE, train, 5, lora, 3e-3, 0.1), tmp.resolve('run'), TrainingListener.NONE)

        then:
        s.steps() == 10
        s.lastLoss() < s.firstLoss()
    }

    def "every problem of a configuration is reported at once"() {
        given:
        def bad = new EmbeddingRunConfig('bad name', BackendConfig.defaults(), 'nowhere', PoolingMode.MEAN,
                LoraConfig.of(0, 8, 0.0, ['query'], []), LossKind.INFONCE, 0,
                new EmbeddingDataConfig(tmp.resolve('missing.jsonl'), null, tmp.resolve('c.jsonl'), null, 4, 0),
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
