package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.NamedParam
import groovy.transform.PackageScope
import org.peft4j.run.CausalLmOptions
import org.peft4j.run.EmbeddingOptions
import org.peft4j.run.RunConfig
import org.peft4j.tensor.BackendConfig
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.TrainConfig

import java.nio.file.Path

/**
 * The base class of every recipe: its public methods are the top level of the DSL. The script only
 * records what the recipe says; {@link RecipeLoader} builds and validates the {@link RunConfig}.
 */
@CompileStatic
abstract class RecipeScript extends Script {

    /** float32 and float16 name the frozen weights' dtype; bfloat16 and auto the products' (BackendConfig). */
    static final List<String> DTYPES = ['float32', 'float16', 'bfloat16', 'auto']

    private Loading loading
    private Origins origins
    private Path baseDir = Path.of('').toAbsolutePath()
    private Path file
    private String name
    private String device = 'cpu'
    private String dtype = 'float32'
    private int threads = 0
    private ModelContext model
    private LoraContext lora
    private AdaLoraContext adalora
    /** The adapter block given last, where a second adapter block is reported. */
    private String lastAdapter
    private DataContext data
    private TrainContext train
    private OutputContext output
    private OptimizerConfig optimizer = OptimizerConfig.adamW(5e-4, 0.01)
    private ScheduleConfig schedule = ScheduleConfig.linear(0.06)

    /**
     * Starts from another recipe (relative to this recipe's folder) and changes parts of it: blocks given here
     * change the base's blocks option by option. It must come first.
     */
    @Option
    void from(String base) {
        if (origins.anySetIn(origins.here().file())) {
            origins.problem("from '${base}' must come before anything else in the recipe, or it would undo what is set above it".toString())
            return
        }
        RecipeScript parent = loading.runBase(baseDir.resolve(base).normalize(), file)
        adopt(parent)
    }

    /** Values the recipe exposes: {@code params { lr 1e-3 }}, used as {@code params.lr}, set with {@code --set params.lr=...}. */
    @Option
    void params(@DelegatesTo(value = ParamsContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(new ParamsContext(origins, baseDir, loading.params, loading.paramOverrides), body)
    }

    /** The values of the {@code params} block, e.g. {@code params.lr}. */
    Params getParams() {
        loading.params
    }

    /** Where a run goes when the command line gives no {@code --out}: {@code output { dir 'runs/spam' }}. */
    @Option
    void output(@DelegatesTo(value = OutputContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(block('output'), body)
    }

    /** The run's name; it names the run directory. */
    @Option
    void recipe(String name) {
        this.name = name
        origins.mark('recipe')
    }

    /** cpu | cuda | cuda:N | auto */
    @Option
    void device(String device) {
        this.device = device
        origins.mark('device')
    }

    /** float32 | float16 */
    @Option
    void dtype(String dtype) {
        this.dtype = dtype
        origins.mark('dtype')
    }

    /** Intra-op threads; 0 keeps libtorch's default. */
    @Option
    void threads(int threads) {
        this.threads = threads
        origins.mark('threads')
    }

    @Option
    void model(@DelegatesTo(value = ModelContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(block('model'), body)
    }

    /** LoRA adapters; without this block the whole model trains. */
    @Option
    void lora(@DelegatesTo(value = LoraContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(block('lora'), body)
    }

    /** AdaLoRA adapters (adaptive rank budget); a recipe has a lora block or an adalora block, not both. */
    @Option
    void adalora(@DelegatesTo(value = AdaLoraContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(block('adalora'), body)
    }

    @Option
    void data(@DelegatesTo(value = DataContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(block('data'), body)
    }

    @Option
    void train(@DelegatesTo(value = TrainContext, strategy = Closure.DELEGATE_FIRST) Closure body) {
        Context.configure(block('train'), body)
    }

    /** {@code optimizer adamW(lr: 5e-4, weightDecay: 0.01)} or {@code optimizer sgd(lr: 0.1, momentum: 0.9)} */
    @Option
    void optimizer(OptimizerConfig optimizer) {
        this.optimizer = optimizer
        origins.mark('optimizer')
    }

    /** {@code schedule linear(warmup: 0.06)}, {@code constant(warmup: 0)} or {@code cosine(warmup: 0.1)} */
    @Option
    void schedule(ScheduleConfig schedule) {
        this.schedule = schedule
        origins.mark('schedule')
    }

    OptimizerConfig adamW(@NamedParam(value = 'lr', type = Number) @NamedParam(value = 'weightDecay', type = Number)
                          @NamedParam(value = 'beta1', type = Number) @NamedParam(value = 'beta2', type = Number)
                          @NamedParam(value = 'eps', type = Number) Map<String, ?> args = [:]) {
        new OptimizerConfig(OptimizerConfig.Kind.ADAMW, number(args, 'lr', 5e-4), number(args, 'weightDecay', 0.01),
                number(args, 'beta1', 0.9), number(args, 'beta2', 0.999), number(args, 'eps', 1e-8), 0)
    }

    OptimizerConfig sgd(@NamedParam(value = 'lr', type = Number, required = true) @NamedParam(value = 'momentum', type = Number)
                        @NamedParam(value = 'weightDecay', type = Number) Map<String, ?> args) {
        new OptimizerConfig(OptimizerConfig.Kind.SGD, number(args, 'lr', 0), number(args, 'weightDecay', 0), 0, 0, 0,
                number(args, 'momentum', 0))
    }

    /** Warmup (a fraction of all steps when < 1, else a step count), then linear decay to 0. */
    ScheduleConfig linear(@NamedParam(value = 'warmup', type = Number) Map<String, ?> args = [:]) {
        new ScheduleConfig(ScheduleConfig.Kind.LINEAR, number(args, 'warmup', 0.06))
    }

    ScheduleConfig constant(@NamedParam(value = 'warmup', type = Number) Map<String, ?> args = [:]) {
        new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, number(args, 'warmup', 0))
    }

    ScheduleConfig cosine(@NamedParam(value = 'warmup', type = Number) Map<String, ?> args = [:]) {
        new ScheduleConfig(ScheduleConfig.Kind.COSINE, number(args, 'warmup', 0.06))
    }

    @PackageScope
    void attach(Loading loading, Path file) {
        this.loading = loading
        this.origins = loading.origins
        this.file = file
        this.baseDir = file.parent
    }

    /** Takes over everything a base recipe set, so that this recipe changes it. */
    private void adopt(RecipeScript base) {
        name = base.name
        device = base.device
        dtype = base.dtype
        threads = base.threads
        model = base.model
        lora = base.lora
        adalora = base.adalora
        lastAdapter = base.lastAdapter
        data = base.data
        train = base.train
        output = base.output
        optimizer = base.optimizer
        schedule = base.schedule
    }

    @PackageScope
    Path outputDir() {
        output?.build()
    }

    @PackageScope
    Origins origins() {
        origins
    }

    /** The context of a block, created on first use; the recipe runs each block once. */
    @PackageScope
    Context block(String block) {
        Origins.Where first = origins.of(block)
        Origins.Where now = origins.here()
        if (now.override() == null) {
            if (first != null && first.override() == null && first.file() == now.file()) {
                origins.problem("the ${block} block is given twice (first at line ${first.line()}); merge them into one".toString())
            }
            origins.mark(block)
        } else if (first == null) {
            origins.mark(block)
        }
        if (block in ['lora', 'adalora']) {
            lastAdapter = block
        }
        Context c = existing(block)
        if (c == null) {
            switch (block) {
                case 'model': c = model = new ModelContext(origins, baseDir); break
                case 'lora': c = lora = new LoraContext(origins, baseDir); break
                case 'adalora': c = adalora = new AdaLoraContext(origins, baseDir); break
                case 'data': c = data = new DataContext(origins, baseDir); break
                case 'train': c = train = new TrainContext(origins, baseDir); break
                case 'output': c = output = new OutputContext(origins, baseDir); break
                default: throw new IllegalArgumentException("no block '${block}'")
            }
        } else if (now.override() == null) {
            c.rebase(baseDir)
        }
        c
    }

    private Context existing(String block) {
        switch (block) {
            case 'model': return model
            case 'lora': return lora
            case 'adalora': return adalora
            case 'data': return data
            case 'train': return train
            case 'output': return output
            default: return null
        }
    }

    @PackageScope
    void optimizerValue(String component, Object value) {
        optimizer = Records.with(optimizer, component, value)
        origins.mark('optimizer.' + component)
    }

    @PackageScope
    void scheduleValue(String component, Object value) {
        schedule = Records.with(schedule, component, value)
        origins.mark('schedule.' + component)
    }

    /** What the recipe said, as the runtime's config; not validated. */
    @PackageScope
    RunConfig build(String defaultName) {
        // with both adapter blocks, problems() names both lines; the runtime's own message could only say "not both"
        AdaLoraContext ada = lora == null ? adalora : null
        new RunConfig(name ?: defaultName, new BackendConfig(device, dtype, threads), model?.build(), lora?.build(),
                data?.build(), optimizer, schedule, trainConfig(), ada?.build(), causalLm(), model?.embeddingOptions())
    }

    /** A causal-LM task's options with the data block's format; null for other tasks. */
    private CausalLmOptions causalLm() {
        CausalLmOptions o = model?.causalLmOptions()
        o == null ? null : new CausalLmOptions(data?.format(), o.template(), o.prompts(), o.maxNewTokens(), o.packing())
    }

    /**
     * Problems of the task that the runtime cannot see: how the DSL was told each training file reads, and an
     * adalora block beside a lora block (the runtime is only given the lora block then, see {@link #build}).
     */
    @PackageScope
    List<String> taskProblems() {
        EmbeddingOptions embedding = model?.embeddingOptions()
        if (embedding == null) {
            return data?.classificationProblems() ?: []
        }
        List<String> p = data?.embeddingProblems(embedding.loss()) ?: []
        if (adalora != null && lora != null) {
            p << RunConfig.ADALORA_IN_EMBEDDING
        }
        p
    }

    private TrainConfig trainConfig() {
        (train ?: new TrainContext(origins, baseDir)).build()
    }

    /** Problems the runtime's validation does not cover. */
    @PackageScope
    List<String> problems() {
        List<String> p = []
        if (!(device ==~ /cpu|auto|cuda(:\d+)?/)) {
            p << "device '${device}' is not valid; use cpu, cuda, cuda:N (e.g. cuda:0) or auto".toString()
        }
        if (!(dtype in DTYPES)) {
            p << "dtype '${dtype}' is not valid; use ${DTYPES.join(', ')}".toString()
        }
        if (threads < 0) {
            p << "threads = ${threads} must be >= 0 (0 keeps libtorch's default of one per core)".toString()
        }
        p.addAll(model?.problems() ?: [])
        p.addAll(lora?.problems() ?: [])
        p.addAll(adalora?.problems(trainConfig()) ?: [])
        if (lora != null && adalora != null) {
            String other = lastAdapter == 'lora' ? 'adalora' : 'lora'
            p << ("${lastAdapter} { } (${origins.of(lastAdapter).format(null)}) and ${other} { } (${origins.of(other).format(null)})" +
                    " are both given; a recipe has one adapter: remove one of the two blocks").toString()
        }
        p.addAll(data?.problems() ?: [])
        p
    }

    private static double number(Map<String, ?> args, String key, double fallback) {
        Object v = args[key]
        v == null ? fallback : ((Number) v).doubleValue()
    }
}
