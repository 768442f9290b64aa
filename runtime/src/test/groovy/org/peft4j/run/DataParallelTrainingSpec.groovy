package org.peft4j.run

import org.peft4j.data.ChatTemplate
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat
import org.peft4j.dist.ProcessGroup
import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.node.ObjectNode
import org.peft4j.models.EmbeddedModels
import org.peft4j.models.ModelInit
import org.peft4j.models.ModelSpec
import org.peft4j.models.core.ClassifierHead
import org.peft4j.models.TaskType
import org.peft4j.models.llama.TinyLlama
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.BackendConfig
import org.peft4j.testing.CharTokenizer
import org.peft4j.testing.ThreadWorkers
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Data-parallel training against one process: two workers (threads of this JVM, whose test group sums in rank
 * order) with half of each batch must give the losses and the trained weights of one process with the whole
 * batch, through gradient accumulation, clipping, a short last batch one worker has no share of, and AdaLoRA's
 * allocation. Adapter dropout is 0: the workers draw their own masks.
 */
class DataParallelTrainingSpec extends Specification {

    static final double TOLERANCE = 1e-5

    @Shared @TempDir
    Path tmp

    /** The outcome of one worker's run. */
    static class Outcome {
        List<Double> losses
        Map<String, float[]> weights
        Map<String, Integer> ranks
        Summary summary
    }

    static Outcome train(RunConfig config, Path out, ProcessGroup group) {
        SteppedRun run = SteppedRun.open(config, new RunOptions(out, null, false, false, group), TrainingListener.NONE)
        try {
            run.trainToEnd()
            def o = new Outcome(losses: run.losses(), ranks: run.adaLoraRanks(),
                    weights: run.model().namedParameters().findAll { k, p -> p.trainable() }
                            .collectEntries { k, p -> [k, p.value().toFloatArray()] })
            o.summary = run.finish()
            o
        } finally {
            run.close()
        }
    }

    static double largestDifference(Map<String, float[]> a, Map<String, float[]> b) {
        assert a.keySet() == b.keySet()
        double worst = 0
        a.each { k, x ->
            float[] y = b[k]
            for (int i = 0; i < x.length; i++) {
                worst = Math.max(worst, Math.abs(x[i] - y[i]))
            }
        }
        worst
    }

    static double largestDifference(List<Double> a, List<Double> b) {
        assert a.size() == b.size()
        (0..<a.size()).collect { Math.abs(a[it] - b[it]) }.max()
    }

    /** One process, then two workers on the same config; returns [single, rank 0, rank 1]. */
    List<Outcome> compare(RunConfig config, String name) {
        Outcome one = train(config, tmp.resolve("${name}-1"), ProcessGroup.single())
        List<Outcome> two = ThreadWorkers.run(2) { ProcessGroup g -> train(config, tmp.resolve("${name}-2"), g) }
        [one] + two
    }

    /**
     * The embedded MiniLM without its dropout (hidden, attention, classifier: 0.1 in its config), which would
     * draw other masks on each worker; the weights and tokenizer are links to the imported ones.
     */
    Path minilmWithoutDropout() {
        Path dir = tmp.resolve('minilm-no-dropout')
        if (!Files.exists(dir)) {
            Path source = EmbeddedModels.resolve('minilm')
            Files.createDirectories(dir)
            def mapper = new ObjectMapper()
            ObjectNode config = (ObjectNode) mapper.readTree(source.resolve('config.json').toFile())
            ['hidden_dropout_prob', 'attention_probs_dropout_prob', 'classifier_dropout'].each { config.put(it, 0.0d) }
            mapper.writeValue(dir.resolve('config.json').toFile(), config)
            ['model.safetensors', 'tokenizer.json'].each { Files.createSymbolicLink(dir.resolve(it), source.resolve(it)) }
        }
        dir
    }

    /** 41 examples in batches of 8: the sixth batch has one row, which worker 1 has no share of. */
    RunConfig classification(LoraConfig lora, AdaLoraConfig adalora, int epochs) {
        Path train = TinyFineTune.spamHead(tmp, 'train', 41)
        Path valid = TinyFineTune.spamHead(tmp, 'valid', 8)
        new RunConfig('dp-classification', BackendConfig.defaults(), new ModelSpec(null, minilmWithoutDropout(),
                TaskType.CLASSIFICATION, ['ham', 'spam'], ModelInit.PRETRAINED, ClassifierHead.MEAN), lora,
                new DataConfig(train, valid, null, 'text', 'label', 32, 0),
                OptimizerConfig.adamW(2e-3, 0.01), ScheduleConfig.linear(0.1),
                new TrainConfig(epochs, 8, 2, 0.1, 42, 2, 0, 8).withCheckpoints(3, 2), adalora)
    }

    def "two workers with half of every batch train a classifier as one process does, accumulation and clipping on"() {
        given:
        def config = classification(LoraConfig.of(4, 8, 0.0, ['query', 'value'], ['classifier']), null, 2)

        when:
        def (one, rank0, rank1) = compare(config, 'cls')

        then: 'six steps (3 an epoch), the same loss at each within 1e-5, on both workers'
        one.losses.size() == 6
        largestDifference(one.losses, rank0.losses) <= TOLERANCE
        largestDifference(one.losses, rank1.losses) <= TOLERANCE

        and: 'the same trained adapter and head, on both workers'
        largestDifference(one.weights, rank0.weights) <= TOLERANCE
        largestDifference(one.weights, rank1.weights) <= TOLERANCE

        and: 'rank 0 wrote the run directory, one metrics row a step (not one per worker); rank 1 returned no summary'
        rank0.summary != null && rank1.summary == null
        Files.readAllLines(tmp.resolve('cls-2/metrics.jsonl')).count { it.contains('"type":"train"') } == 6
        Files.exists(tmp.resolve('cls-2/adapter/adapter_model.safetensors'))
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve('cls-2/summary.json').toFile()).path('world_size').asInt() == 2
        Files.list(tmp.resolve('cls-2/checkpoints')).count() >= 1
    }

    /** Answers of 1 to 16 characters, so the workers score uneven token counts; 7 chats in batches of 4. */
    RunConfig causalLm() {
        Path modelDir = tmp.resolve('lm')
        if (!Files.exists(modelDir)) {
            new TinyLlama(5).writeTo(modelDir)
            Files.copy(CharTokenizer.write(tmp.resolve('tok')), modelDir.resolve('tokenizer.json'))
        }
        def chat = { String q, String a -> /{"messages": [{"role": "user", "content": "$q"}, {"role": "assistant", "content": "$a"}]}/ }
        Path train = Files.writeString(tmp.resolve('chats.jsonl'), [chat('sky?', 'blue.'), chat('grass?', 'a'),
                chat('snow?', 'white, cold.'), chat('coal?', 'black and hard'), chat('sun?', 'hot'),
                chat('sea?', 'deep, salty, wet'), chat('moon?', 'grey')].join('\n') + '\n')
        new RunConfig('dp-lm', BackendConfig.defaults(),
                new ModelSpec(null, modelDir, TaskType.CAUSAL_LM, []),
                LoraConfig.of(4, 8, 0.0, ['q_proj', 'v_proj'], []), new DataConfig(train, null, null, 'text', 'label', 64, 0),
                OptimizerConfig.adamW(1e-2, 0.0), new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0),
                new TrainConfig(4, 4, 2, 0.1, 42, 0, 0, 4).withCheckpoints(2, 2), null,
                new CausalLmOptions(TextFormat.CHATS, ChatTemplate.CHATML, [], 6, false))
    }

    def "two workers train a causal LM as one process does, though their shares hold different numbers of learned tokens"() {
        given:
        def config = causalLm()

        when:
        def (one, rank0, rank1) = compare(config, 'lm')

        then: 'one step an epoch (2 batches accumulated), the same losses and adapter within 1e-5'
        one.losses.size() == 4
        largestDifference(one.losses, rank0.losses) <= TOLERANCE
        largestDifference(one.losses, rank1.losses) <= TOLERANCE
        largestDifference(one.weights, rank0.weights) <= TOLERANCE
        largestDifference(one.weights, rank1.weights) <= TOLERANCE
    }

    def "a run of two workers paused after 2 of 4 steps resumes in one process with the numbers of an uninterrupted run"() {
        given:
        def config = causalLm()
        Outcome whole = train(config, tmp.resolve('whole'), ProcessGroup.single())
        Path out = tmp.resolve('paused')

        when: 'two workers train 2 steps; rank 0 writes the checkpoint where they pause'
        ThreadWorkers.run(2) { ProcessGroup g ->
            SteppedRun run = SteppedRun.open(config, new RunOptions(out, null, false, false, g), TrainingListener.NONE)
            try {
                run.train(2, { -> false })
            } finally {
                run.close()
            }
        }
        Outcome resumed = train(config, out, ProcessGroup.single())

        then: 'the checkpoint says 2 workers wrote it; one process continues steps 3 and 4 as the uninterrupted run did'
        new ObjectMapper().readTree(out.resolve('checkpoints/step-000002/state.json').toFile())
                .path('world_size').asInt() == 2
        resumed.losses.size() == 2
        largestDifference(whole.losses.subList(2, 4), resumed.losses) <= TOLERANCE
        largestDifference(whole.weights, resumed.weights) <= TOLERANCE
    }

    def "AdaLoRA's allocation comes from the averaged gradients: both workers keep the ranks one process keeps"() {
        given: 'budget steps 2 to 4 of 6, an allocation every step'
        def adalora = AdaLoraConfig.builder().initR(4).targetR(2).tinit(1).tfinal(2).deltaT(1).dropout(0.0)
                .targets(['query', 'value']).modulesToSave(['classifier']).build()
        def config = classification(null, adalora, 2)

        when:
        def (one, rank0, rank1) = compare(config, 'adalora')

        then: 'the ranks were cut, the same on every worker and as in one process'
        one.ranks.values().sum() < 4 * one.ranks.size()
        rank0.ranks == one.ranks
        rank1.ranks == one.ranks

        and:
        largestDifference(one.losses, rank0.losses) <= TOLERANCE
        largestDifference(one.weights, rank0.weights) <= TOLERANCE
        largestDifference(one.weights, rank1.weights) <= TOLERANCE
    }

    def "a global batch smaller than the number of workers is refused, naming both"() {
        given:
        def config = classification(LoraConfig.of(4, 8, 0.0, ['query'], ['classifier']), null, 1)
        config = new RunConfig(config.name(), config.backend(), config.model(), config.lora(), config.data(),
                config.optimizer(), config.schedule(), new TrainConfig(1, 1, 1, 0, 42, 0, 0, 8), null)

        when:
        ThreadWorkers.run(2) { ProcessGroup g -> train(config, tmp.resolve('small'), g) }

        then:
        def e = thrown(org.peft4j.config.ConfigException)
        e.message.contains('train.batchSize = 1') && e.message.contains('2 workers')
    }
}
