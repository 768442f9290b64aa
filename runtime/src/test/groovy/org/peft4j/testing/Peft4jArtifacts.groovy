package org.peft4j.testing

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import org.peft4j.data.DataConfig
import org.peft4j.export.MergedExport
import org.peft4j.io.SafeTensors
import org.peft4j.models.ModelSpec
import org.peft4j.models.Registry
import org.peft4j.models.TaskType
import org.peft4j.models.core.ClassifierHead
import org.peft4j.models.core.Task
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter
import org.peft4j.peft.AdapterModel
import org.peft4j.peft.TrainedHead
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.adalora.AdaLoraModel
import org.peft4j.peft.adalora.AdaLoraToLora
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.run.FineTune
import org.peft4j.run.RunConfig
import org.peft4j.run.RunOptions
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainingListener

import java.nio.file.Files
import java.nio.file.Path

/**
 * The artifacts of the peft4j → Hugging Face half of the interop suite, rebuilt the same on every
 * machine: merged classifiers and decoders, adapters saved by a peft4j run, an AdaLoRA adapter and
 * its LoRA export, each over a base model of the Transformers fixtures (hf/). Adapter weights are
 * drawn from Java's generator with a fixed seed ("trained" values), so the files do not depend on
 * libtorch's generator. {@code tools/hf-fixtures/record_peft4j.py} loads each artifact with the
 * standard classes and records their outputs under {@code peft4j-hf/<case>/expected.json}; see
 * {@code hf/CASES.md}.
 *
 * <p>Each case writes into its directory: {@code base/} (the base model it started from),
 * {@code adapter/} and {@code merged/} or {@code lora/} as it has them.
 */
class Peft4jArtifacts {

    static final String ROOT = 'peft4j-hf'

    static final List<String> CASES = ['merged-bert-new-pooler', 'merged-bert-mean', 'merged-bert-embedding',
                                       'merged-roberta-seqcls', 'merged-llama-causal', 'merged-mistral-sliding',
                                       'merged-qwen2-seqcls', 'run-lora-bert', 'adalora-bert', 'pissa-llama']

    /** The ChatML template as Qwen's tokenizer_config.json writes it, put beside the decoder's base. */
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + " +
            "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}" +
            "{{ '<|im_start|>assistant\\n' }}{% endif %}"

    /** A built case: its directory, and the in-memory model with its adapter when the case has one. */
    static class Built {
        Path dir
        Module model
        AdapterModel adapter

        void free() {
            model?.namedParameters()?.values()?.each { it.value().close() }
        }
    }

    static Built build(String name, Path dir) {
        Files.createDirectories(dir)
        switch (name) {
            case 'merged-bert-new-pooler': return mergedBertNewPooler(dir)
            case 'merged-bert-mean': return mergedBertMean(dir)
            case 'merged-bert-embedding': return mergedBertEmbedding(dir)
            case 'merged-mistral-sliding': return mergedMistralSliding(dir)
            case 'pissa-llama': return pissaLlama(dir)
            case 'merged-roberta-seqcls': return mergedRobertaSeqcls(dir)
            case 'merged-llama-causal': return mergedLlamaCausal(dir)
            case 'merged-qwen2-seqcls': return mergedQwen2Seqcls(dir)
            case 'run-lora-bert': return runLoraBert(dir)
            case 'adalora-bert': return adaloraBert(dir)
            default: throw new IllegalArgumentException("no case '$name'; cases: $CASES")
        }
    }

    /**
     * BERT as the quickstart trains it: a base without a pooler (all-MiniLM-L6-v2 ships none), the
     * Transformers head whose new pooler and classifier train as modules to save, LoRA on query and
     * value; merged with labels.
     */
    static Built mergedBertNewPooler(Path dir) {
        Path base = copyBase('bert-base', dir.resolve('base')) { String n -> !n.startsWith('pooler.') }
        Module model = (Module) Registry.load(base, Task.sequenceClassification(3, 1))
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['query', 'value'], ['classifier', 'pooler']),
                manager())
        perturb(lora, 101)
        MergedExport.write(lora, base, dir.resolve('merged'), ['red', 'green', 'blue'])
        new Built(dir: dir, model: model, adapter: lora)
    }

    /** BERT with a classifier on the mean of the token states, merged into sentence-transformers' layout. */
    static Built mergedBertMean(Path dir) {
        Path base = copyBase('bert-base', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.sequenceClassification(2, 1, ClassifierHead.MEAN))
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['query', 'value'], ['classifier']), manager())
        perturb(lora, 102)
        MergedExport.write(lora, base, dir.resolve('merged'), ['ham', 'spam'])
        new Built(dir: dir, model: model, adapter: lora)
    }

    /** An embedding adapter on every linear layer of BERT, its pooler's dense included, merged into the encoder. */
    static Built mergedBertEmbedding(Path dir) {
        Path base = copyBase('bert-base', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.ENCODER)
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(2).alpha(4).allLinear().build(), manager())
        perturb(lora, 108)
        MergedExport.write(lora, base, dir.resolve('merged'))
        new Built(dir: dir, model: model, adapter: lora)
    }

    /** Mistral attending within a sliding window of 8, with LoRA on q_proj/v_proj, merged in memory. */
    static Built mergedMistralSliding(Path dir) {
        Path base = copyBase('mistral-sliding', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.CAUSAL_LM)
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['q_proj', 'v_proj'], []), manager())
        perturb(lora, 109)
        MergedExport.write(lora, base, dir.resolve('merged'))
        new Built(dir: dir, model: model, adapter: lora)
    }

    /**
     * PiSSA on the original Llama base: the init moves the top-r part of q_proj and v_proj into the
     * adapter, then A and B take "trained" values; saved as PEFT saves a PiSSA adapter (init_lora_weights
     * "pissa"), which PeftModel loads on the original base by running the init again.
     */
    static Built pissaLlama(Path dir) {
        Path base = copyBase('llama-v4config-theta', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.CAUSAL_LM)
        def lora = LoraInjector.inject(model, LoraConfig.builder().r(2).alpha(4).targets('q_proj', 'v_proj')
                .init(org.peft4j.peft.lora.LoraInit.PISSA).build(), manager())
        perturb(lora, 110)
        lora.save(dir.resolve('adapter'), 'CAUSAL_LM', 'base')
        new Built(dir: dir, model: model, adapter: lora)
    }

    /** A RoBERTa classifier whose whole classification head trains as a module to save. */
    static Built mergedRobertaSeqcls(Path dir) {
        Path base = copyBase('roberta-seqcls', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.sequenceClassification(3, 1))
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['query', 'value'], ['classifier']), manager())
        perturb(lora, 103)
        MergedExport.write(lora, base, dir.resolve('merged'), null)
        new Built(dir: dir, model: model, adapter: lora)
    }

    /** A Llama causal LM with a chat template in chat_template.jinja, its adapter saved and merged from the files. */
    static Built mergedLlamaCausal(Path dir) {
        Path base = copyBase('llama-rope-default', dir.resolve('base'))
        Files.writeString(base.resolve('chat_template.jinja'), CHATML)
        Module model = (Module) Registry.load(base, Task.CAUSAL_LM)
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['q_proj', 'v_proj'], []), manager())
        perturb(lora, 104)
        lora.save(dir.resolve('adapter'), 'CAUSAL_LM', 'base')
        MergedExport.merge(base, dir.resolve('adapter'), dir.resolve('merged'), null)
        new Built(dir: dir, model: model, adapter: lora)
    }

    /**
     * A Qwen2 causal LM turned into Transformers' Qwen2ForSequenceClassification: a new score trained
     * as a module to save; the adapter and its head record saved, then merged from the files.
     */
    static Built mergedQwen2Seqcls(Path dir) {
        Path base = copyBase('qwen2', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.sequenceClassification(2, 1))
        def lora = LoraInjector.inject(model, LoraConfig.of(2, 4, 0.0, ['q_proj', 'v_proj'], ['score']), manager())
        perturb(lora, 105)
        lora.save(dir.resolve('adapter'), 'SEQ_CLS', 'base')
        TrainedHead.record(dir.resolve('adapter'), ClassifierHead.TRANSFORMERS)
        MergedExport.merge(base, dir.resolve('adapter'), dir.resolve('merged'), ['no', 'yes'])
        new Built(dir: dir, model: model, adapter: lora)
    }

    /** The adapter of a real peft4j run: LoRA on the tiny BERT, 3 steps of AdamW on 24 labelled texts. */
    static Built runLoraBert(Path dir) {
        Path base = copyBase('bert-base', dir.resolve('base'))
        Path train = dir.resolve('train.jsonl')
        Random random = new Random(106)
        List<String> words = vocabulary(base)
        Files.write(train, (0..<24).collect { int i ->
            String text = (0..<(4 + random.nextInt(8))).collect { words[random.nextInt(words.size())] }.join(' ')
            // the label is whether the text says 'sun', so that a few steps can learn something
            '{"text": "' + (i % 2 == 0 ? text + ' sun' : text) + '", "label": "' + (i % 2 == 0 ? 'yes' : 'no') + '"}'
        })
        def config = new RunConfig('run-lora-bert', BackendConfig.defaults(),
                new ModelSpec(null, base, TaskType.CLASSIFICATION, ['no', 'yes']),
                LoraConfig.of(2, 4, 0.0, ['query', 'value'], ['classifier']),
                new DataConfig(train, null, null, 'text', 'label', 32, 0),
                OptimizerConfig.adamW(1e-2, 0.0), ScheduleConfig.linear(0.0),
                new TrainConfig(1, 8, 1, 1.0, 42, 0, 0, 8))
        FineTune.run(config, new RunOptions(dir.resolve('run'), null, false), TrainingListener.NONE)
        copyTree(dir.resolve('run/adapter'), dir.resolve('adapter'))
        new Built(dir: dir)
    }

    /**
     * AdaLoRA on the tiny BERT's query, key and value (init_r 4): one module pruned to rank 0, one to
     * rank 2, the rest kept; saved as PEFT writes AdaLoRA, and exported to LoRA.
     */
    static Built adaloraBert(Path dir) {
        Path base = copyBase('bert-base', dir.resolve('base'))
        Module model = (Module) Registry.load(base, Task.sequenceClassification(2, 1))
        def config = AdaLoraConfig.builder().initR(4).targetR(2).alpha(8).targets(['query', 'key', 'value'])
                .modulesToSave(['classifier']).totalSteps(100).tinit(10).tfinal(10).build()
        AdaLoraModel adalora = AdaLoraInjector.inject(model, config, manager())
        perturb(adalora, 107)
        def layers = adalora.layers()
        layers['bert.encoder.layer.0.attention.self.key'].setMask(manager().create([0f, 0f, 0f, 0f] as float[]))
        layers['bert.encoder.layer.1.attention.self.query'].setMask(manager().create([1f, 0f, 1f, 0f] as float[]))
        adalora.save(dir.resolve('adapter'), 'SEQ_CLS', 'base')
        AdaLoraToLora.write(dir.resolve('adapter'), dir.resolve('lora'))
        new Built(dir: dir, model: model, adapter: adalora)
    }

    /**
     * Sets every adapter parameter (modules to save included) to N(0, 0.3²) values from Java's
     * generator, in path order: values no libtorch generator decides.
     */
    static void perturb(AdapterModel adapter, long seed) {
        Random random = new Random(seed)
        adapter.adapterParameters().sort().each { String path, Parameter p ->
            def shape = p.value().shape
            float[] v = new float[(int) shape.size()]
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * 0.3)
            }
            p.set(manager().create(v, shape))
        }
    }

    /** The fixture's model directory copied to {@code to}, keeping the tensors {@code keep} accepts. */
    static Path copyBase(String fixture, Path to, Closure<Boolean> keep = { true }) {
        Path from = HfFixture.load(fixture).modelDir
        Files.createDirectories(to)
        Files.list(from).withCloseable { files ->
            files.filter { it.fileName.toString() != 'model.safetensors' }.each { Files.copy(it, to.resolve(it.fileName)) }
        }
        NDManager m = manager().newSubManager()
        try {
            Map<String, NDArray> tensors = SafeTensors.read(from.resolve('model.safetensors'), m)
                    .findAll { k, v -> keep(k) }
            SafeTensors.write(to.resolve('model.safetensors'), new LinkedHashMap<>(tensors), [format: 'pt'])
        } finally {
            m.close()
        }
        to
    }

    /** The ordinary words of a WordLevel tokenizer.json, in id order. */
    static List<String> vocabulary(Path modelDir) {
        def vocab = new com.fasterxml.jackson.databind.ObjectMapper().readTree(modelDir.resolve('tokenizer.json').toFile())
                .path('model').path('vocab')
        vocab.fieldNames().toList().findAll { !it.startsWith('[') }.sort { vocab.get(it).asInt() }
    }

    static void copyTree(Path from, Path to) {
        Files.walk(from).withCloseable { paths ->
            paths.each { Path p ->
                Path target = to.resolve(from.relativize(p).toString())
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target)
                } else {
                    Files.copy(p, target)
                }
            }
        }
    }

    static NDManager manager() {
        Backend.get().manager()
    }
}
