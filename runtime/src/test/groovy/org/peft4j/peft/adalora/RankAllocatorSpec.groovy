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
            if (allocator.allocate(t)) {
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

    def "a triplet pruned at one allocation comes back at a later one when its score rises above the b(t)-th"() {
        given: 'a rank-2 layer on a 3→2 linear, a budget of 1 triplet'
        def layer = new SvdLinear(new Linear(manager, 3, 2, false), 2, 4.0, 0.0, manager)
        layer.loraA().set(manager.create([[0.5f, -1f, 2f], [1.5f, 0.2f, -0.4f]] as float[][]))
        layer.loraE().set(manager.create([[0.3f], [-0.6f]] as float[][]))
        layer.loraB().set(manager.create([[1f, -0.5f], [0.25f, 2f]] as float[][]))
        layer.adapterParameters().values().each { it.setTrainable(true) }
        def allocator = new RankAllocator([layer: layer], config(), new BudgetSchedule(config(), 1))
        def favour = { int i -> // gradients 1 on every entry of triplet i, 0 on the other
            [lora_A: (0..1).collect { r -> [r == i ? 1d : 0d] * 3 as double[] } as double[][],
             lora_E: (0..1).collect { r -> [r == i ? 1d : 0d] as double[] } as double[][],
             lora_B: (0..1).collect { o -> (0..1).collect { r -> r == i ? 1d : 0d } as double[] } as double[][]]
        }

        when: 'triplet 0 is the important one at the first allocation'
        backwardWithGradients(layer, favour(0))
        allocator.update(1)
        allocator.maskTo(1)

        then: 'triplet 1 is pruned: its λ is zero'
        layer.survivors() as List == [true, false]
        layer.loraE().value().toFloatArray().collect { Math.abs(it) } == [0.3f, 0f]
        allocator.lastReturned() == 0

        when: 'between allocations the optimizer moves the pruned λ again, and triplet 1 becomes the important one'
        layer.loraE().value().set(manager.create([0.3f, 0.8f] as float[]).reshape(2, 1).toByteBuffer())
        (2..6).each { t ->
            backwardWithGradients(layer, favour(1))
            allocator.update(t)
        }
        allocator.maskTo(1)

        then: 'the next allocation, choosing among all triplets, keeps triplet 1 and prunes triplet 0'
        layer.survivors() as List == [false, true]
        layer.loraE().value().toFloatArray().collect { Math.abs(it) } == [0f, 0.8f]
        allocator.lastReturned() == 1
        allocator.returnedTriplets() == 1
        allocator.returnsPerLayer() == [layer: 1]
    }

    def "with deltaT #deltaT the triplets kept after every step equal the budget of the latest allocation, b(t) itself with deltaT 1"() {
        given:
        def model = new TinyMlp(manager)
        def config = AdaLoraConfig.builder().initR(4).targetR(2).tinit(2).tfinal(4).deltaT(deltaT).totalSteps(16)
                .targets(['fc1', 'fc2', 'classifier']).build()
        def ada = AdaLoraInjector.inject(model, config, manager)
        def hook = ada.hook(16)
        def schedule = hook.allocator().schedule()

        when: 'sixteen steps with random data and an update of λ in between, as an optimizer would make'
        (1..16).each { t ->
            ada.adapterParameters().values().each { it.zeroGrad() }
            try (def scope = new StepScope()) {
                try (def gc = Engine.instance.newGradientCollector()) {
                    gc.backward(model.forward(manager.randomNormal(new Shape(8, 10))).square().mean())
                }
                hook.afterBackward(t)
                ada.layers().values().each { it.loraE().value().subi(it.loraE().value().getGradient().mul(0.1f)) }
                hook.afterOptimizerStep(t)
            }
        }

        then:
        def trace = hook.report().trace()
        trace*.step() == (1..16).toList()
        int latest = schedule.initialBudget()
        trace.every { p ->
            if (schedule.maskDue(p.step())) {
                latest = schedule.budget(p.step())
            }
            p.kept() == latest && p.budget() == schedule.budget(p.step())
        }
        !(deltaT == 1) || trace.every { it.kept() == it.budget() }
        trace.last().kept() == 6
        ada.ranks().values().sum() == 6

        and: 'returns are counted at allocations only: the trace adds up to the per-layer counts'
        trace.sum { it.returned() } == hook.allocator().returnsPerLayer().values().sum()
        trace.findAll { !schedule.maskDue(it.step()) }.every { it.returned() == 0 }

        and: 'once the mask is fixed (after T − tfinal = 12), every pruned λ is zero after each step'
        ada.layers().values().every { l -> (0..<4).every { i -> l.survivors()[i] || Math.abs(l.loraE().value().toFloatArray()[i]) == 0f } }

        where:
        deltaT << [1, 3]
    }

    static double[][] zero(double[][] v) { v.collect { new double[it.length] } as double[][] }

    static void each(double[][] v, Closure c) { (0..<v.length).each { i -> (0..<v[i].length).each { j -> c(i, j) } } }

    static boolean close(float[] got, double[][] want) {
        double[] w = want.flatten() as double[]
        (0..<w.length).every { Math.abs(got[it] - w[it]) < 1e-6 + 1e-4 * Math.abs(w[it]) }
    }
}
