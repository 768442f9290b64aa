package org.peft4j.run

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.config.ConfigException
import org.peft4j.data.DataConfig
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.models.core.ClassifierHead
import org.peft4j.peft.TrainedHead
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.tensor.BackendConfig
import org.peft4j.testing.HfFixture
import org.peft4j.testing.IdTokenizer
import org.peft4j.testing.Peft4jArtifacts
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Classification runs on every family's Transformers head (hf/ fixtures with {@link IdTokenizer}): a
 * RoBERTa classifier, and decoders whose new score trains as a module to save; the head is recorded
 * beside the adapter and predict reads it back. A head that could not be reproduced later is refused
 * before anything trains.
 */
class ClassificationFamiliesSpec extends Specification {

    @TempDir
    Path tmp

    /** 16 texts of the fixture's words, labelled by whether they name token 5. */
    Path data(Path modelDir, List<String> labels) {
        int vocab = new ObjectMapper().readTree(modelDir.resolve('config.json').toFile()).path('vocab_size').asInt()
        Random random = new Random(9)
        Path file = tmp.resolve('train.jsonl')
        Files.write(file, (0..<16).collect { int i ->
            List<String> words = (0..<(4 + random.nextInt(6))).collect { "w${6 + random.nextInt(vocab - 6)}".toString() }
            if (i % labels.size() == 0) {
                words << 'w5'
            }
            '{"text": "' + words.join(' ') + '", "label": "' + labels[i % labels.size()] + '"}'
        })
        file
    }

    RunConfig config(Path modelDir, List<String> labels, LoraConfig lora, ClassifierHead head = null) {
        new RunConfig('families', BackendConfig.defaults(),
                new ModelSpec(null, modelDir, TaskType.CLASSIFICATION, labels, null, head), lora,
                new DataConfig(data(modelDir, labels), null, null, 'text', 'label', 16, 0),
                OptimizerConfig.adamW(1e-2, 0.0), ScheduleConfig.linear(0.0), new TrainConfig(1, 4, 1, 1.0, 42, 0, 0, 4))
    }

    def "a #name classifier trains, saves its adapter with the head it computes, and predict reads it back"() {
        given:
        Path modelDir = IdTokenizer.copyWith(HfFixture.load(name), tmp.resolve('model'), pad)
        Path run = tmp.resolve('run')

        when:
        FineTune.run(config(modelDir, labels, LoraConfig.of(2, 4, 0.0, targets, saved)), new RunOptions(run, null, false),
                TrainingListener.NONE)
        float[][] logits = Predictor.open(modelDir, run.resolve('adapter'), null, 0).withCloseable {
            it.logits(['w5 w9 w10', 'w11 w12'], 2)
        }

        then:
        new ObjectMapper().readTree(run.resolve('adapter/adapter_config.json').toFile()).path('task_type').asText() == 'SEQ_CLS'
        TrainedHead.recorded(run.resolve('adapter')) == ClassifierHead.TRANSFORMERS
        logits.length == 2 && logits.every { it.length == labels.size() && it.every { Float.isFinite(it) } }

        where: 'roberta-seqcls has a trained head of 3 labels; the decoders start a new score'
        name             | pad | labels            | targets              | saved
        'roberta-seqcls' | 1   | ['a', 'b', 'c']   | ['query', 'value']   | ['classifier']
        'qwen2'          | 0   | ['no', 'yes']     | ['q_proj', 'v_proj'] | ['score']
        'gpt2'           | 0   | ['no', 'yes']     | ['c_attn']           | ['score']
    }

    def "a head that could not be reproduced is refused before anything trains: #what"() {
        when:
        FineTune.plan(config(base(model), labels, LoraConfig.of(2, 4, 0.0, targets, saved), head), TrainingListener.NONE)

        then:
        def e = thrown(ConfigException)
        e.message.contains(message)

        where:
        what                                                        | model                        | labels     | targets    | saved          | head                        | message
        'a new pooler (MiniLM has none) not among modules to save'  | 'bert-base-no-pooler'        | ['a', 'b'] | ['query']  | ['classifier'] | ClassifierHead.TRANSFORMERS | "are new (the checkpoint has none) and would stay at their random start: train them as modules to save, e.g. modulesToSave 'pooler'"
        'a decoder classifier without pad_token_id'                 | 'refuse-seqcls-no-pad-token' | ['a', 'b', 'c'] | ['q_proj'] | ['score']      | null                        | 'config.json has no pad_token_id'
        'a mean head on a decoder'                                  | 'llama-seqcls'               | ['a', 'b'] | ['q_proj'] | ['score']      | ClassifierHead.MEAN         | "a llama sequence classifier has no 'mean' head; valid: 'transformers'"
    }

    /** A fixture model with the id tokenizer; 'bert-base-no-pooler' is bert-base without its pooler, as MiniLM ships. */
    Path base(String model) {
        if (model == 'bert-base-no-pooler') {
            return Peft4jArtifacts.copyBase('bert-base', tmp.resolve('m')) { String n -> !n.startsWith('pooler.') }
        }
        IdTokenizer.copyWith(HfFixture.load(model), tmp.resolve('m'))
    }
}
