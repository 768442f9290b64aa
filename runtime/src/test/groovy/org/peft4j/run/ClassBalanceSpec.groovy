package org.peft4j.run

import org.peft4j.config.ConfigException
import org.peft4j.data.DataConfig
import org.peft4j.embedding.TinyEncoderDir
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

class ClassBalanceSpec extends Specification {

    @TempDir
    Path tmp

    RunConfig config(List<String> labels, List<String> trainLabels, int limit = 0) {
        Path model = TinyEncoderDir.write(tmp.resolve('encoder'), 3)
        Path train = Files.write(tmp.resolve('train.jsonl'), trainLabels.withIndex().collect { String l, int i ->
            /{"text": "w${4 + i % 8}", "label": "$l"}/.toString()
        })
        new RunConfig('balance', BackendConfig.defaults(), new ModelSpec(null, model, TaskType.CLASSIFICATION, labels),
                LoraConfig.of(2, 4, 0.0, ['query'], ['classifier', 'pooler']), new DataConfig(train, null, null, 'text', 'label', 8, limit),
                OptimizerConfig.adamW(1e-3, 0), ScheduleConfig.linear(0), new TrainConfig(1, 4, 1, 1.0, 1, 0, 0, 4))
    }

    def "training data of one class is refused, naming every class's count"() {
        when:
        FineTune.plan(config(['ham', 'spam'], ['ham'] * 6), TrainingListener.NONE)

        then:
        ConfigException e = thrown()
        e.problems().size() == 1
        e.problems()[0].startsWith('data.train ')
        e.problems()[0].contains('has examples of one class only (ham 6, spam 0); a classifier needs examples of at least two classes')
    }

    def "with data.limit the message says that only the file's head was read"() {
        when:
        FineTune.plan(config(['ham', 'spam'], ['ham'] * 4 + ['spam'] * 4, 4), TrainingListener.NONE)

        then:
        ConfigException e = thrown()
        e.message.contains('(ham 4, spam 0)')
        e.message.contains('data.limit = 4 read the file\'s first 4 examples: if it is sorted by label, shuffle it')
    }

    def "a class without examples beside others is warned about, with the counts, and the plan goes on"() {
        given:
        List<String> phases = []
        TrainingListener listener = [onPhase: { String m -> phases << m }] as TrainingListener

        when:
        Plan plan = FineTune.plan(config(['ham', 'spam', 'phish'], ['ham', 'spam'] * 3), listener)

        then:
        plan.splits().train.examples == 6
        phases.any { it == 'warning: data.train has no example of phish (ham 3, spam 3, phish 0); the classifier can never predict it' }
    }

    def "two classes or more pass without a word"() {
        given:
        List<String> phases = []
        TrainingListener listener = [onPhase: { String m -> phases << m }] as TrainingListener

        when:
        FineTune.plan(config(['ham', 'spam'], ['ham', 'spam', 'ham']), listener)

        then:
        !phases.any { it.startsWith('warning') }
    }
}
