package org.peft4j.peft.files

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
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
 * and an all-linear embedding adapter that also adapts BERT's pooler (which the encoder builds, as its checkpoint
 * has one).
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

    def "a #method SEQ_CLS adapter with modules_to_save [classifier, score] loads on a model whose head is classifier"() {
        given:
        def fx = HfFixture.load(name)
        def model = BertForSequenceClassification.fromPretrained(fx.modelDir, 3, 0)
        model.train(false)

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, model)
        HfFixture.Difference d
        try (def s = new StepScope()) {
            d = HfFixture.compare(model.forward(fx.inputIds(m), fx.attentionMask(m), null), fx.expected('logits', m))
        }

        then: 'score matched nothing and was left out; the saved classifier was loaded'
        adapter.modulesToSave().keySet() == ['classifier'] as Set
        d.within(fx.tolerance)

        where:
        method    | name
        'LoRA'    | 'lora-bert-seqcls'
        'AdaLoRA' | 'adalora-bert-seqcls'
    }

    def "an all-linear embedding adapter that also adapts BERT's pooler loads on the encoder, and its last hidden state and pooler output are PeftModel's"() {
        given:
        def fx = HfFixture.load('lora-bert-embedding')
        def bert = BertModel.fromPretrained(fx.modelDir)
        bert.train(false)

        when:
        AdapterModel adapter = PeftAdapters.load(fx.adapterDir, bert)
        HfFixture.Difference hidden, pooled
        try (def s = new StepScope()) {
            NDArray h = bert.forward(fx.inputIds(m), fx.attentionMask(m), null)
            hidden = HfFixture.compare(h, fx.expected('last_hidden_state', m))
            pooled = HfFixture.compare(bert.pooled(h), fx.expected('pooler_output', m))
        }

        then: 'the twelve encoder linears and the pooler carry it, as PEFT adapted them'
        adapter.adaptedPaths().size() == 13
        adapter.adaptedPaths().contains('pooler.dense')
        hidden.within(fx.tolerance)
        pooled.within(fx.tolerance)
    }
}
