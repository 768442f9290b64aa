package org.peft4j.peft.files

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.index.NDIndex
import org.peft4j.io.SafeTensors
import org.peft4j.models.core.CausalLm
import org.peft4j.models.CausalLmLoss
import org.peft4j.models.Registry
import org.peft4j.models.core.Task
import org.peft4j.models.bert.BertForSequenceClassification
import org.peft4j.models.bert.BertModel
import org.peft4j.nn.Module
import org.peft4j.peft.AdapterModel
import org.peft4j.peft.PeftType
import org.peft4j.peft.adalora.AdaLoraModel
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.HfFixture
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Adapters as PEFT 0.21 writes them (hf/CASES.md), loaded through {@link PeftAdapters} and checked
 * against the outputs PeftModel computed for them: every init_lora_weights value, AdaLoRA with
 * modules pruned to rank 0, SEQ_CLS adapters whose modules_to_save lists both classifier and score,
 * and an all-linear embedding adapter that also adapts BERT's pooler.
 */
class PeftAdapterFixturesSpec extends Specification {

    NDManager m = Backend.get().manager()

    static final String ORIGINAL = 'llama-v4config-theta'

    /** Logits at the fixture's positions and the per-row NLL of {@code lm} against the fixture. */
    List<HfFixture.Difference> causalLmDifferences(HfFixture fx, CausalLm lm) {
        try (def s = new StepScope()) {
            NDArray out = lm.forward(fx.inputIds(m), fx.attentionMask(m), fx.plainPositionIds(m), null)
            def logits = HfFixture.compare(fx.atPositions(out), fx.expected('logits_at', m))
            def labels = fx.labels(m)
            def rows = (0..<fx.inputIdRows.size()).collect { int b ->
                CausalLmLoss.loss(out.get("$b:${b + 1}"), labels.get("$b:${b + 1}")).getFloat() as double
            }
            return [logits, HfFixture.compare(rows, fx.doubles('nll'))]
        }
    }

    @TempDir
    Path tmp

    /**
     * A residual base's weights beside the original's config.json: the residual's own says the same
     * rope (theta 500000, default) in Transformers 5's rope_parameters form, which is not what this
     * spec is about.
     */
    Path withOriginalConfig(Path residual) {
        Path dir = Files.createDirectories(tmp.resolve('residual'))
        Files.copy(residual.resolve('model.safetensors'), dir.resolve('model.safetensors'))
        Files.copy(HfFixture.load(ORIGINAL).modelDir.resolve('config.json'), dir.resolve('config.json'))
        dir
    }

    def "init_lora_weights #init loads on #base and gives PeftModel's outputs (#name)"() {
        given: 'PiSSA and OLoRA rebuild their residual from the original base, as PeftModel.from_pretrained does'
        def fx = HfFixture.load(name)
        Path dir = base == 'the original base' ? HfFixture.load(ORIGINAL).modelDir
                : base == 'its residual base' ? withOriginalConfig(fx.modelDir) : fx.modelDir
        CausalLm lm = Registry.load(dir, Task.CAUSAL_LM)

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, (Module) lm)
        def (logits, nll) = causalLmDifferences(fx, lm)

        then:
        adapter.peftType() == PeftType.LORA
        logits.within(tolerance)
        nll.within(tolerance)

        where: """the rebuilt residuals come from an exact SVD or QR; PEFT's float32 SVD of a weight whose 4th and 5th
        singular values are 2 % apart (3.176, 3.113) moves its residual by 7e-6, which an exact float64 SVD in PyTorch
        turns into 9.7e-5 on these logits too: hence 2e-4 there. pissa_niter_4 cannot be rebuilt (a random SVD), so it
        is applied to the residual base saved with it, as the load's warning says"""
        name                         | init                  | base                 | tolerance
        'lora-init-true'             | 'true'                | 'its base'           | 1e-4
        'lora-init-false'            | 'false'               | 'its base'           | 1e-4
        'lora-init-gaussian'         | '"gaussian"'          | 'its base'           | 1e-4
        'lora-init-orthogonal'       | '"orthogonal"'        | 'its base'           | 1e-4
        'lora-init-mica'             | '"mica"'              | 'its base'           | 1e-4
        'lora-init-pissa'            | '"pissa"'             | 'the original base'  | 2e-4
        'lora-init-olora'            | '"olora"'             | 'the original base'  | 1e-4
        'lora-llama-pissa'           | '"pissa", trained'    | 'the original base'  | 2e-4
        'lora-llama-olora'           | '"olora", trained'    | 'the original base'  | 1e-4
        'lora-init-pissa-niter-4'    | '"pissa_niter_4"'     | 'its residual base'  | 1e-4
        'lora-llama-pissa-converted' | 'true, converted'     | 'its base'           | 1e-4
        'lora-llama-olora-converted' | 'true, converted'     | 'its base'           | 1e-4
    }

    def "an AdaLoRA adapter with modules pruned to rank 0 gives PeftModel's outputs"() {
        given:
        def fx = HfFixture.load('adalora-llama')
        CausalLm lm = Registry.load(fx.modelDir, Task.CAUSAL_LM)

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, (Module) lm)
        def (logits, nll) = causalLmDifferences(fx, lm)

        then: 'some modules kept no triplet and are zero-size layers that add nothing'
        adapter instanceof AdaLoraModel
        adapter.layers().values().any { it.rank() == 0 }
        adapter.layers().values().any { it.rank() > 0 }
        logits.within(fx.tolerance)
        nll.within(fx.tolerance)
    }

    /**
     * BertForSequenceClassification's head as Transformers computes it: h[CLS] → pooler (dense,
     * tanh; the base checkpoint's weights) → classifier. peft4j's classifier mean-pools instead, so
     * the encoder and the adapter's classifier are checked here under the reference's head.
     */
    NDArray hfClassifierLogits(BertForSequenceClassification model, HfFixture fx) {
        Map<String, NDArray> base = SafeTensors.read(fx.modelDir.resolve('model.safetensors'), m)
        NDArray hidden = model.bert().forward(fx.inputIds(m), fx.attentionMask(m), null)       // (B, T, H)
        NDArray cls = hidden.get(new NDIndex(':, 0, :'))                                        // (B, H)
        NDArray pooled = cls.matMul(base['bert.pooler.dense.weight'].transpose()).add(base['bert.pooler.dense.bias']).tanh()
        def w = model.namedParameters()
        pooled.matMul(w['classifier.weight'].value().transpose()).add(w['classifier.bias'].value())
    }

    def "a #method SEQ_CLS adapter with modules_to_save [classifier, score] loads on a model whose head is classifier"() {
        given:
        def fx = HfFixture.load(name)
        def model = BertForSequenceClassification.fromPretrained(fx.modelDir, 3, 0)
        model.train(false)

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, model)
        HfFixture.Difference d
        try (def s = new StepScope()) {
            d = HfFixture.compare(hfClassifierLogits(model, fx), fx.expected('logits', m))
        }

        then: 'score matched nothing and was left out; the saved classifier was loaded'
        adapter.modulesToSave().keySet() == ['classifier'] as Set
        d.within(fx.tolerance)

        where:
        method    | name
        'LoRA'    | 'lora-bert-seqcls'
        'AdaLoRA' | 'adalora-bert-seqcls'
    }

    def "an all-linear embedding adapter that also adapts BERT's pooler loads on the encoder, and its outputs are PeftModel's"() {
        given:
        def fx = HfFixture.load('lora-bert-embedding')
        def bert = BertModel.fromPretrained(fx.modelDir)
        bert.train(false)

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, bert)
        HfFixture.Difference hidden
        try (def s = new StepScope()) {
            hidden = HfFixture.compare(bert.forward(fx.inputIds(m), fx.attentionMask(m), null),
                    fx.expected('last_hidden_state', m))
        }

        then: 'twelve encoder linears carry it; the pooler, which the encoder does not build, is skipped'
        adapter.adaptedPaths().size() == 12
        adapter.adaptedPaths().every { !it.startsWith('pooler') }
        hidden.within(fx.tolerance)
    }
}
