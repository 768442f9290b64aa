package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.NamedParam
import groovy.transform.PackageScope
import org.peft4j.data.ChatTemplate
import org.peft4j.models.ModelInit
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.models.core.ClassifierHead
import org.peft4j.run.CausalLmOptions
import org.peft4j.run.EmbeddingOptions

import java.nio.file.Files

import java.nio.file.Path

/**
 * {@code model { source 'minilm'; task classification(labels: ['ham', 'spam']) }} or
 * {@code model { path 'models/Qwen2.5-0.5B-Instruct'; task causalLm(prompts: ['Hi!']) }}
 */
@CompileStatic
class ModelContext extends Context {

    private String source
    private Path path
    private Task task
    private String init = 'pretrained'
    private String ifMissing

    static final Map<String, ModelInit> INITS = [pretrained: ModelInit.PRETRAINED, random: ModelInit.RANDOM]
    static final Map<String, ChatTemplate> TEMPLATES = [chatml: ChatTemplate.CHATML, llama3: ChatTemplate.LLAMA3]

    ModelContext(Origins origins, Path baseDir) {
        super(origins, 'model', baseDir)
    }

    /** An embedded model by name: {@code source 'minilm'}. */
    @Option
    void source(String name) {
        source = name
        mark('source')
    }

    /** A Hugging Face model directory, relative to the recipe's folder. */
    @Option
    void path(String directory) {
        path = resolve(directory)
        mark('path')
    }

    /**
     * {@code task classification(labels: [...])}, {@code task causalLm(...)} or a sentence-embedding run:
     * {@code task embedding(pooling: 'mean', loss: 'infonce', temperature: 0.05)}.
     */
    @Option
    void task(Task task) {
        this.task = task
        mark('task')
    }

    /**
     * Sentence vectors, L2-normalised: {@code pooling} 'mean' (default) or 'cls'; {@code loss} 'infonce' (default;
     * trains on pairs), 'simcse' (on sentences) or 'cosine' (on scored pairs); {@code temperature} τ (default 0.05).
     */
    Task embedding(@NamedParam(value = 'pooling', type = String) @NamedParam(value = 'loss', type = String)
                   @NamedParam(value = 'temperature', type = Number) Map<String, ?> args = [:]) {
        // each value is marked here, so the runtime's "temperature = ..." lands on this line
        ['pooling', 'loss', 'temperature'].each { String k -> origins.mark(k) }
        new Task(TaskType.EMBEDDING, [], null, new EmbeddingOptions(EmbeddingChoices.pooling(origins, (String) args.pooling ?: 'mean'),
                EmbeddingChoices.loss(origins, (String) args.loss ?: 'infonce'),
                args.temperature == null ? 0.05d : ((Number) args.temperature).doubleValue()))
    }

    /**
     * One label per text: {@code classification(labels: ['ham', 'spam'], head: 'transformers')}. {@code head} is
     * 'transformers' (the head AutoModelForSequenceClassification computes: BERT's pooler, RoBERTa's classification
     * head, a decoder's last token) or 'mean' (a classifier on the mean of the token states, as sentence encoders pool;
     * BERT and RoBERTa); without it, the model's own: its checkpoint's head, else the pooling a sentence-transformers
     * model records (the mean for 'minilm'), else 'transformers'.
     */
    Task classification(@NamedParam(value = 'labels', type = List, required = true)
                        @NamedParam(value = 'head', type = String) Map<String, ?> args) {
        String head = (String) args.head
        ClassifierHead kind = head == null ? null : ClassifierHead.named(head)
        if (head != null && kind == null) {
            origins.problem("model.task classification(head: '${head}') is not a head peft4j builds; valid: ${ClassifierHead.labels().collect { "'${it}'" }.join(', ')}, or leave it out for the model's own".toString())
        }
        new Task(TaskType.CLASSIFICATION, ((List<?>) args.labels).collect { String.valueOf(it) }, null, null, kind)
    }

    /** {@code 'pretrained'} (the directory's weights) or {@code 'random'}: a decoder from its config.json, trained from scratch. */
    @Option
    void init(String weights) {
        init = weights
        mark('init')
    }

    /** What to tell the user when the model directory is absent, e.g. how to download or train it. */
    @Option
    void ifMissing(String advice) {
        ifMissing = advice
        mark('ifMissing')
    }

    /**
     * Next-token prediction with a decoder: {@code causalLm(template: 'chatml', prompts: ['...'], maxNewTokens: 64,
     * packing: false)}. The template (chatml, llama3) renders instructions and chats; without it the model's own
     * is used when peft4j knows it. The prompts are answered greedily before and after training.
     */
    Task causalLm(@NamedParam(value = 'template', type = String) @NamedParam(value = 'prompts', type = List)
                  @NamedParam(value = 'maxNewTokens', type = Integer) @NamedParam(value = 'packing', type = Boolean)
                  Map<String, ?> args = [:]) {
        String template = (String) args.template
        if (template != null && !TEMPLATES.containsKey(template)) {
            origins.problem("model.task causalLm(template: '${template}') is not a template peft4j renders; valid: ${TEMPLATES.keySet().join(', ')}, or leave it out to use the model's own".toString())
        }
        List<String> prompts = ((List<?>) args.prompts ?: []).collect { String.valueOf(it) }
        new Task(TaskType.CAUSAL_LM, [], new CausalLmOptions(null, template == null ? null : TEMPLATES[template], prompts,
                args.maxNewTokens == null ? 48 : (Integer) args.maxNewTokens, args.packing == null ? false : (Boolean) args.packing), null)
    }

    /** The embedding task's options, or null for other tasks. */
    @PackageScope
    EmbeddingOptions embeddingOptions() {
        task?.embedding()
    }

    @PackageScope
    ModelSpec build() {
        new ModelSpec(source, path, task?.type(), task?.labels(), INITS[init], task?.head())
    }

    /** The task's causal-LM options, or null for other tasks; the data format comes from the data block. */
    @PackageScope
    CausalLmOptions causalLmOptions() {
        task?.causalLm()
    }

    /** Problems the runtime cannot see: an unknown init, and a model directory that is not there (with the recipe's advice). */
    @PackageScope
    List<String> problems() {
        List<String> p = []
        if (!INITS.containsKey(init)) {
            p << "model.init '${init}' is not valid; use ${INITS.keySet().collect { "'${it}'" }.join(' or ')}".toString()
        }
        if (path != null && !Files.isDirectory(path)) {
            p << ("model.path '${path}' does not exist" + (ifMissing ? "; ${ifMissing}" : '; it must be a Hugging Face' +
                    ' model directory (config.json, model.safetensors, tokenizer.json)')).toString()
        } else if (path != null && INITS[init] == ModelInit.RANDOM && !Files.isRegularFile(path.resolve('config.json'))) {
            p << "model.init 'random' builds the model of ${path.resolve('config.json')}, which does not exist".toString()
        }
        p
    }
}
