package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.DataConfig
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
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

class FineTuneSpec extends Specification {

    @TempDir Path tmp

    static final Path SPAM = Path.of('../recipes/data/spam')

    /** The first {@code n} lines of a split, so the run takes seconds. */
    Path head(String split, int n) {
        def out = tmp.resolve("${split}-${n}.jsonl")
        Files.write(out, Files.readAllLines(SPAM.resolve("${split}.jsonl")).take(n))
        out
    }

    RunConfig config(Path train, Path valid, int epochs) {
        new RunConfig('tiny-run', BackendConfig.defaults(),
                new ModelSpec('minilm', null, TaskType.CLASSIFICATION, ['ham', 'spam']),
                LoraConfig.of(8, 16, 0.0, ['query', 'value'], ['classifier']),
                new DataConfig(train, valid, null, 'text', 'label', 64, 0),
                OptimizerConfig.adamW(2e-3, 0.0), ScheduleConfig.linear(0.0),
                new TrainConfig(epochs, 16, 1, 1.0, 42, 0, 0, 32))
    }

    def "the plan lists the adapted modules, the trainable share and the data, and trains nothing"() {
        when:
        def plan = FineTune.plan(config(head('train', 40), null, 1), TrainingListener.NONE)

        then:
        plan.adaptedModules().size() == 12
        plan.adaptedModules().contains('bert.encoder.layer.0.attention.self.query')
        plan.trainableModules().every { it.contains('lora_') || it.startsWith('classifier') }
        plan.trainableParams() == 6 * 2 * (8 * 384 + 384 * 8) + 384 * 2 + 2
        plan.trainableShare() < 0.02
        plan.splits().train.examples == 40
        plan.totalSteps() == 3
    }

    def "a short run on a few dozen examples lowers the loss on them and writes the run directory"() {
        given: 'training and evaluating on the same 48 examples'
        def train = head('train', 48)
        def out = tmp.resolve('run')

        when:
        def summary = FineTune.run(config(train, train, 4), new RunOptions(out, null, true), TrainingListener.NONE)

        then:
        summary.steps() == 12
        summary.after().valid.loss < summary.before().valid.loss
        Files.exists(out.resolve('adapter/adapter_model.safetensors'))
        Files.exists(out.resolve('adapter/adapter_config.json'))
        Files.readAllLines(out.resolve('metrics.jsonl')).count { it.contains('"type":"train"') } == 12

        and: 'summary.json has what a user reads first'
        def json = new ObjectMapper().readTree(out.resolve('summary.json').toFile())
        ['trainable_params', 'total_params', 'valid', 'before', 'wall_seconds', 'tokens_per_second'].every { json.has(it) }
        json.valid.has('accuracy') && json.valid.has('f1')
    }

    def "a run directory that already holds a run is refused, so no result is overwritten"() {
        given:
        def out = tmp.resolve('taken')
        Files.createDirectories(out)
        Files.writeString(out.resolve('summary.json'), '{}')

        when:
        FineTune.run(config(head('train', 16), null, 1), new RunOptions(out, null, false), TrainingListener.NONE)

        then:
        def e = thrown(UncheckedIOException)
        e.message.contains('already holds a run')
        Files.readString(out.resolve('summary.json')) == '{}'
    }
}
