package org.peft4j.peft.adalora

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.types.Shape
import org.peft4j.nn.Linear
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.TinyMlp
import spock.lang.Specification

class RankAllocatorSpec extends Specification {

    def manager = Backend.get().manager()

    def setup() {
        Backend.get().seed(7)
    }

    static AdaLoraConfig config(int total = 10) {
        AdaLoraConfig.builder().initR(4).targetR(2).tinit(2).tfinal(5).deltaT(1).totalSteps(total)
                .beta1(0.85).beta2(0.85).targets(['fc1', 'fc2', 'classifier']).build()
    }

    /** Backward of Σ c ∘ w over the layer's three parameters, so that ∇w = c exactly. */
    void backwardWithGradients(SvdLinear layer, Map<String, double[][]> c) {
        layer.adapterParameters().values().each { it.zeroGrad() }
        try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
            NDArray loss = null
            layer.adapterParameters().each { name, p ->
                def term = p.value().mul(manager.create(c[name].collect { it as float[] } as float[][])).sum()
                loss = loss == null ? term : loss.add(term)
            }
            gc.backward(loss)
        }
    }

    def "importance after two updates equals Eq. 8–11 worked by hand, EMA state included"() {
        given: 'a rank-2 layer on a 3→2 linear with known P, Λ, Q'
        def layer = new SvdLinear(new Linear(manager, 3, 2, false), 2, 4.0, 0.0, manager)
        def w = [lora_A: [[0.5, -1.0, 2.0], [1.5, 0.2, -0.4]] as double[][],
                 lora_E: [[0.3], [-0.6]] as double[][],
                 lora_B: [[1.0, -0.5], [0.25, 2.0]] as double[][]]
        w.each { n, v -> layer.parameters()[n].set(manager.create(v.collect { it as float[] } as float[][])) }
        layer.adapterParameters().values().each { it.setTrainable(true) }
        def g1 = [lora_A: [[1.0, 2.0, -1.0], [0.5, 0.5, 0.5]] as double[][],
                  lora_E: [[2.0], [1.0]] as double[][],
                  lora_B: [[-1.0, 1.0], [3.0, 0.0]] as double[][]]
        def g2 = [lora_A: [[0.0, 1.0, 1.0], [-2.0, 1.0, 0.0]] as double[][],
                  lora_E: [[1.0], [-3.0]] as double[][],
                  lora_B: [[2.0, 2.0], [1.0, -1.0]] as double[][]]
        def allocator = new RankAllocator([layer: layer], config(), new BudgetSchedule(config(), 1))

        when:
        backwardWithGradients(layer, g1)
        allocator.update(1)
        backwardWithGradients(layer, g2)
        allocator.update(2)

        then: 'I = |w ∘ g|; Ī = β1 Ī + (1−β1) I; Ū = β2 Ū + (1−β2) |I − Ī|, starting from 0'
        def expected = [:]
        w.each { n, v ->
            double[][] ibar = zero(v), ubar = zero(v)
            [g1, g2].each { g ->
                each(v) { i, j ->
                    double sens = Math.abs(v[i][j] * g[n][i][j])
                    ibar[i][j] = 0.85 * ibar[i][j] + 0.15 * sens
                    ubar[i][j] = 0.85 * ubar[i][j] + 0.15 * Math.abs(sens - ibar[i][j])
                }
            }
            expected[n] = [ibar, ubar]
            assert close(allocator.smoothedSensitivity("layer.$n").toFloatArray(), ibar)
            assert close(allocator.uncertainty("layer.$n").toFloatArray(), ubar)
        }

        and: 'S_i = s(λ_i) + mean_j s(Q_ij) + mean_j s(P_ji), s = Ī Ū'
        def s = { n, i, j -> expected[n][0][i][j] * expected[n][1][i][j] }
        double[] triplet = (0..1).collect { i ->
            s('lora_E', i, 0) + (0..2).sum { j -> s('lora_A', i, j) } / 3 + (0..1).sum { j -> s('lora_B', j, i) } / 2
        } as double[]
        close(allocator.tripletScores().toFloatArray(), [triplet] as double[][])
        allocator.updates() == 2
    }

    def "after each masking step exactly b(t) triplets survive over all matrices"() {
        given:
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, config(20), manager)
        ada.layers().values().each { it.loraE().set(manager.randomNormal(0f, 1f, new Shape(4, 1), it.loraE().value().dataType)) }
        def allocator = ada.allocator()
        def schedule = allocator.schedule()
        def counts = []

        when:
        (1..20).each { t ->
            ada.adapterParameters().values().each { it.zeroGrad() }
            try (def scope = new StepScope(); def gc = Engine.instance.newGradientCollector()) {
                gc.backward(model.forward(manager.randomNormal(new Shape(8, 10))).square().mean())
            }
            allocator.update(t)
            if (allocator.maskIfDue(t)) {
                counts << [t, allocator.activeTriplets(), schedule.budget(t)]
            }
        }

        then: 'masks at 3..15 (deltaT 1, tinit 2, T − tfinal = 15), budget 12 → 6'
        counts*.get(0) == (3..15).toList()
        counts.every { it[1] == it[2] }
        counts.last()[2] == 6
        ada.ranks().values().sum() == 6
        ada.rankPattern().values().collect { it.count(true) }.sum() == 6
        // a pruned λ is 0 (possibly -0.0, which Groovy's == tells apart from 0)
        ada.layers().values().every { l -> (0..<4).every { i -> l.survivors()[i] || Math.abs(l.loraE().value().toFloatArray()[i]) == 0f } }
    }

    def "with every score tied, masking to #budget keeps exactly #budget triplets, the earliest in layer order"() {
        given: 'no update: all scores are 0'
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, config(), manager)

        when:
        ada.allocator().maskTo(budget)

        then:
        ada.allocator().activeTriplets() == budget
        ada.ranks() == expected

        where:
        budget || expected
        12     || [fc1: 4, fc2: 4, classifier: 4]
        7      || [fc1: 4, fc2: 3, classifier: 0]
        1      || [fc1: 1, fc2: 0, classifier: 0]
        0      || [fc1: 0, fc2: 0, classifier: 0]
    }

    def "a pruned triplet is never re-admitted, and its λ stays zero after optimizer steps"() {
        given:
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, config(), manager)
        def hook = ada.hook(10)
        ada.allocator().maskTo(6)
        def pattern = ada.rankPattern()

        when: 'λ is moved by hand as an optimizer would, then the hook runs after the step'
        ada.layers().values().each { it.loraE().value().addi(1f) }
        hook.afterOptimizerStep(1)
        ada.allocator().maskTo(9)

        then:
        ada.rankPattern() == pattern
        // a pruned λ is 0 (possibly -0.0, which Groovy's == tells apart from 0)
        ada.layers().values().every { l -> (0..<4).every { i -> l.survivors()[i] || Math.abs(l.loraE().value().toFloatArray()[i]) == 0f } }
    }

    static double[][] zero(double[][] v) { v.collect { new double[it.length] } as double[][] }

    static void each(double[][] v, Closure c) { (0..<v.length).each { i -> (0..<v[i].length).each { j -> c(i, j) } } }

    static boolean close(float[] got, double[][] want) {
        double[] w = want.flatten() as double[]
        (0..<w.length).every { Math.abs(got[it] - w[it]) < 1e-6 + 1e-4 * Math.abs(w[it]) }
    }
}
