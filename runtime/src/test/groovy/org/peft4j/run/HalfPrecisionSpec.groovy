package org.peft4j.run

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import ai.djl.ndarray.types.Shape
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.data.ChatTemplate
import org.peft4j.data.DataConfig
import org.peft4j.data.TextFormat
import org.peft4j.embedding.TinyEncoderDir
import org.peft4j.io.SafeTensors
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.ModelInit
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.gpt2.GPT2LMHeadModel
import org.peft4j.models.gpt2.TinyGpt2
import org.peft4j.models.llama.TinyLlama
import org.peft4j.nn.Module
import org.peft4j.nn.Parameter
import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.lora.LoraBias
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.tensor.BackendConfig
import org.peft4j.tensor.StepScope
import org.peft4j.testing.CharTokenizer
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
 * dtype float16: frozen weights in half precision, everything that trains in float32. Each model
 * family is checked against the same model in float32 with the same weights, so the only
 * difference is half-precision rounding (about 1e-3 relative per operation).
 */
class HalfPrecisionSpec extends Specification {

    @Shared @TempDir
    Path tmp
    @Shared
    NDManager m = Backend.get().manager()

    /**
     * Two models from one directory, the second with its frozen weights cast to half, and what
     * {@code adapt} returned for each.
     */
    static List pair(Closure<Module> load, Closure<Object> adapt) {
        Module full = load()
        Module half = load()
        def adaptedFull = adapt(full)
        def adaptedHalf = adapt(half)
        // identical, non-zero adapters (B = 0 would hide the adapter path), copied by name
        def random = new Random(7)
        full.namedParameters().each { String k, Parameter p ->
            if (p.trainable()) {
                float[] v = p.value().toFloatArray()
                for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextGaussian() * 0.3)
                p.set(p.value().manager.create(v, p.value().shape))
                half.namedParameters()[k].set(p.value().duplicate())
            }
        }
        half.castFrozen(DataType.FLOAT16)
        [full, half, adaptedFull, adaptedHalf]
    }

    /** (ids, mask, token types) of BERT rows, padded with id 0 to {@code width}. */
    List<NDArray> bertBatch(int width, List<List<Long>> rows) {
        long[] ids = new long[rows.size() * width]
        long[] mask = new long[ids.length]
        rows.eachWithIndex { List<Long> row, int r ->
            row.eachWithIndex { long id, int t -> ids[r * width + t] = id; mask[r * width + t] = 1 }
        }
        Shape shape = new Shape(rows.size(), width)
        [m.create(ids, shape), m.create(mask, shape), m.zeros(shape, DataType.INT64)]
    }

    /** Σ logits²: a loss whose gradient reaches every logit. */
    static final Closure<NDArray> SQUARES = { NDArray y -> y.square().sum() }

    static double maxAbs(float[] a) { a.collect { Math.abs(it as double) }.max() }

    static double maxAbsDiff(float[] a, float[] b) {
        assert a.length == b.length
        (0..<a.length).collect { Math.abs((a[it] as double) - b[it]) }.max()
    }

    /** |a − b| ≤ tol · max(1, max|a|): relative to the output's scale, absolute near zero. */
    static boolean close(float[] reference, float[] other, double tol) {
        maxAbsDiff(reference, other) <= tol * Math.max(1d, maxAbs(reference))
    }

    /** Forward, a loss, backward: the output and every trainable gradient, by name. */
    static Map<String, float[]> outputAndGrads(Module model, Closure<NDArray> forward, Closure<NDArray> loss) {
        Map<String, float[]> out = [:]
        try (def s = new StepScope()) {
            try (def gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = forward()
                out.output = y.toType(DataType.FLOAT32, false).toFloatArray()
                gc.backward(loss(y))
            }
            model.namedParameters().each { k, p ->
                if (p.trainable()) {
                    assert p.value().getGradient().dataType == DataType.FLOAT32
                    out[k] = p.value().getGradient().toFloatArray()
                }
            }
            model.namedParameters().values().each { it.zeroGrad() }
        }
        out
    }

    def "castFrozen stores frozen weights as float16 and leaves every trainable one float32"() {
        given:
        Path dir = TinyEncoderDir.write(tmp.resolve('bert-cast'), 3)
        def model = BertForSequenceClassification.fromPretrained(dir, 2, 11)
        LoraInjector.inject(model, LoraConfig.of(4, 8, 0, ['query', 'value'], ['classifier']), m)
        int frozen = model.namedParameters().values().count { !it.trainable() }

        when:
        int cast = model.castFrozen(DataType.FLOAT16)

        then:
        cast == frozen
        model.namedParameters().every { k, p -> p.value().dataType == (p.trainable() ? DataType.FLOAT32 : DataType.FLOAT16) }
        model.namedParameters().findAll { k, p -> p.trainable() }.keySet().every { it.contains('lora_') || it.contains('classifier') }
        model.castFrozen(DataType.FLOAT16) == 0
    }

    def "BERT with #method: half-precision logits and adapter gradients match float32 to half-precision rounding"() {
        given:
        Path dir = TinyEncoderDir.write(tmp.resolve("bert-$method"), 4)
        def config = LoraConfig.builder().r(4).alpha(8).targets('query', 'value').modulesToSave('classifier')
                .useDora(method == 'DoRA').build()
        def (full, half) = pair({ BertForSequenceClassification.fromPretrained(dir, 2, 11) },
                { LoraInjector.inject(it, config, m) })
        def (ids, mask, types) = bertBatch(8, [[2, 5, 9, 12, 3], [2, 7, 8, 3]])

        when:
        def a = outputAndGrads(full, { full.forward(ids, mask, types) }, SQUARES)
        def b = outputAndGrads(half, { half.forward(ids, mask, types) }, SQUARES)

        then:
        a.keySet() == b.keySet()
        a.keySet().any { it.contains('lora_A') } && a.keySet().any { it.contains('classifier') }
        close(a.output, b.output, 2e-2)
        a.keySet().every { close(a[it], b[it], 5e-2) }
        !half.namedParameters().values().any { !it.trainable() && it.value().hasGradient() }
        a.keySet().any { it.contains('lora_magnitude_vector') } == (method == 'DoRA')

        where:
        method << ['LoRA', 'DoRA']
    }

    def "Llama with LoRA: half-precision logits and loss match float32, and a padded row stays finite"() {
        given:
        def (full, half) = pair({ TinyLlama.load(tmp.resolve("llama-${UUID.randomUUID()}"), 5) },
                { LoraInjector.inject(it, LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], []), m) })
        def ids = m.create([0, 0, 5, 9, 12, 3, 7, 1, 8, 14, 2, 6] as long[], new Shape(2, 6))
        def mask = m.create([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] as long[], new Shape(2, 6))   // left padding
        def labels = ids.duplicate()
        def loss = { NDArray y -> CausalLmLoss.loss(y, labels) }

        when:
        def a = outputAndGrads(full, { full.forward(ids, mask) }, loss)
        def b = outputAndGrads(half, { half.forward(ids, mask) }, loss)
        double lossFull, lossHalf
        try (def s = new StepScope()) {
            lossFull = loss(full.forward(ids, mask)).getFloat()
            NDArray logits = half.forward(ids, mask)
            assert logits.dataType == DataType.FLOAT16
            lossHalf = loss(logits).getFloat()
        }

        then:
        b.output.every { Float.isFinite(it) }
        close(a.output, b.output, 2e-2)
        Math.abs(lossFull - lossHalf) < 1e-2 * lossFull
        a.keySet().every { close(a[it], b[it], 5e-2) }
    }

    def "GPT-2 with LoRA on its Conv1D layers and a tied head: half precision matches float32"() {
        given:
        def (full, half) = pair({ GPT2LMHeadModel.fromPretrained(new TinyGpt2(6).writeTo(tmp.resolve("gpt2-${UUID.randomUUID()}"))) },
                { LoraInjector.inject(it, LoraConfig.of(4, 8, 0, ['c_attn', 'c_fc'], []), m) })
        def ids = m.create([3, 17, 0, 9, 22, 5] as long[], new Shape(1, 6))
        def mask = m.ones(new Shape(1, 6), DataType.INT64)
        def loss = { NDArray y -> CausalLmLoss.loss(y, ids) }

        when:
        def a = outputAndGrads(full, { full.forward(ids, mask) }, loss)
        def b = outputAndGrads(half, { half.forward(ids, mask) }, loss)

        then:
        close(a.output, b.output, 2e-2)
        a.keySet().every { close(a[it], b[it], 5e-2) }
    }

    def "trained biases (bias 'all') on half-precision weights stay float32 and get their gradients"() {
        given:
        Path dir = TinyEncoderDir.write(tmp.resolve('bert-bias'), 8)
        def config = LoraConfig.builder().r(4).alpha(8).targets('query', 'value').modulesToSave('classifier')
                .bias(LoraBias.ALL).build()
        def (full, half) = pair({ BertForSequenceClassification.fromPretrained(dir, 2, 11) },
                { LoraInjector.inject(it, config, m) })
        def (ids, mask, types) = bertBatch(5, [[2, 5, 9, 12, 3]])

        when:
        def a = outputAndGrads(full, { full.forward(ids, mask, types) }, SQUARES)
        def b = outputAndGrads(half, { half.forward(ids, mask, types) }, SQUARES)

        then:
        b.keySet().any { it.endsWith('LayerNorm.bias') } && b.keySet().any { it.endsWith('intermediate.dense.bias') }
        close(a.output, b.output, 2e-2)
        a.keySet().every { close(a[it], b[it], 5e-2) }
    }

    def "AdaLoRA's SVD adapters run in float32 over a half-precision base and match float32"() {
        given:
        Path dir = TinyEncoderDir.write(tmp.resolve('bert-adalora'), 10)
        def config = AdaLoraConfig.builder().initR(4).targetR(2).alpha(8).targets(['query', 'value'])
                .modulesToSave(['classifier']).build()
        def (full, half) = pair({ BertForSequenceClassification.fromPretrained(dir, 2, 11) },
                { AdaLoraInjector.inject(it, config, m) })
        def (ids, mask, types) = bertBatch(6, [[2, 5, 9, 12, 3], [2, 7, 8, 14, 11, 3]])

        when:
        def a = outputAndGrads(full, { full.forward(ids, mask, types) }, SQUARES)
        def b = outputAndGrads(half, { half.forward(ids, mask, types) }, SQUARES)
        String q = 'bert.encoder.layer.0.attention.self.query.'

        then:
        half.namedParameters()[q + 'base_layer.weight'].value().dataType == DataType.FLOAT16
        half.namedParameters()[q + 'lora_E'].value().dataType == DataType.FLOAT32
        a.keySet().count { it.endsWith('lora_E') } == 4
        close(a.output, b.output, 2e-2)
        a.keySet().every { close(a[it], b[it], 5e-2) }
    }

    def "merging into half-precision weights gives the unmerged output, and unmerging restores the weights"() {
        given:
        Path dir = TinyEncoderDir.write(tmp.resolve('bert-merge'), 9)
        def (full, half, _, lora) = pair({ BertForSequenceClassification.fromPretrained(dir, 2, 11) },
                { LoraInjector.inject(it, LoraConfig.of(4, 8, 0, ['query', 'value'], ['classifier']), m) })
        def (ids, mask, types) = bertBatch(5, [[2, 5, 9, 12, 3]])
        def run = { Module model -> try (def s = new StepScope()) { model.forward(ids, mask, types).toType(DataType.FLOAT32, false).toFloatArray() } }
        String q = 'bert.encoder.layer.0.attention.self.query.base_layer.weight'
        float[] baseQ = half.namedParameters()[q].value().toType(DataType.FLOAT32, false).toFloatArray()

        when:
        float[] unmerged = run(half)
        lora.merge()
        float[] merged = run(half)
        String dtypeMerged = half.namedParameters()[q].value().dataType
        lora.unmerge()

        then:
        dtypeMerged == 'float16'
        close(unmerged, merged, 2e-2)
        close(run(full), merged, 3e-2)
        // W + ΔW − ΔW in half precision: back to W up to one half-precision rounding of W + ΔW
        close(baseQ, half.namedParameters()[q].value().toType(DataType.FLOAT32, false).toFloatArray(), 4e-3)
    }

    def "a float16 LoRA fine-tune lowers the loss and saves a float32 adapter in PEFT's format"() {
        given:
        Path model = new TinyLlama(5).writeTo(tmp.resolve('ft-model'))
        Files.copy(CharTokenizer.write(tmp.resolve('tok')), model.resolve('tokenizer.json'))
        def chat = { String q, String a -> /{"messages": [{"role": "user", "content": "$q"}, {"role": "assistant", "content": "$a"}]}/ }
        Path train = Files.writeString(tmp.resolve('train.jsonl'), [chat('sky?', 'blue.'), chat('grass?', 'green.'),
                chat('snow?', 'white.'), chat('coal?', 'black.')].join('\n') + '\n')
        def config = new RunConfig('tiny-half', new BackendConfig('cpu', 'float16', 0),
                new ModelSpec(null, model, TaskType.CAUSAL_LM, [], ModelInit.PRETRAINED),
                LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], []), new DataConfig(train, train, null, 'text', 'label', 64, 0),
                OptimizerConfig.adamW(1e-2, 0.0), new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0),
                new TrainConfig(8, 2, 1, 1.0, 42, 0, 0, 4), null,
                new CausalLmOptions(TextFormat.CHATS, ChatTemplate.CHATML, [], 6, false))
        List<String> phases = []
        def listener = new TrainingListener() {
            void onPhase(String message) { phases << message }
        }

        when:
        Summary s = FineTune.run(config, new RunOptions(tmp.resolve('ft-run'), null, true), listener)
        def header = SafeTensors.header(tmp.resolve('ft-run/adapter/adapter_model.safetensors'))

        then:
        s.after().valid.loss < s.before().valid.loss
        Double.isFinite(s.after().valid.loss)
        phases.any { it.contains('frozen tensors stored as float16') && it.contains('for GPUs') }
        !header.isEmpty()
        header.values().every { it.dtype() == 'F32' }

        cleanup:
        Backend.start(BackendConfig.defaults())
    }

    def "full fine-tuning with float16 is refused with the reason and the fix"() {
        when:
        def config = new RunConfig('half-full', new BackendConfig('cpu', 'float16', 0),
                new ModelSpec('minilm', null, TaskType.CLASSIFICATION, ['ham', 'spam']), null,
                new DataConfig(tmp.resolve('t.jsonl'), null, null, 'text', 'label', 32, 0),
                OptimizerConfig.adamW(1e-3, 0.0), ScheduleConfig.linear(0.1), new TrainConfig(1, 8, 1, 1.0, 42, 0, 0, 8))

        then:
        def problem = config.problems().find { it.contains('float16') }
        problem != null
        problem.contains('full fine-tuning') && problem.contains("dtype 'float32'") && problem.contains('lora {')
        HalfPrecision.problem('float32', true) == null
        HalfPrecision.problem('fp16', false) == null
    }
}
