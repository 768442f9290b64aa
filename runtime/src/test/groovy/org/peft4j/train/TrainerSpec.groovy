package org.peft4j.train

import ai.djl.ndarray.BaseNDManager
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import org.peft4j.testing.ToyTask
import spock.lang.Specification

/** The training loop's arithmetic and its memory, on a 10→20→2 MLP. */
class TrainerSpec extends Specification {

    def manager = Backend.get().manager()

    TinyMlp model() {
        Backend.get().seed(11)
        def m = new TinyMlp(manager)
        m.setTrainable(true)
        m
    }

    def "accumulating k batches of b examples updates the weights as one batch of k times b"() {
        given: 'plain SGD at lr 0.1, so the update is -0.1 times the gradient'
        def accumulated = model()
        def whole = model()
        def start = whole.snapshot()

        when:
        step(accumulated, 4, 2)
        step(whole, 8, 1)

        then: 'the weights moved, and moved the same'
        def a = accumulated.snapshot()
        def w = whole.snapshot()
        a.keySet() == w.keySet()
        w.any { k, v -> !Arrays.equals(v, start[k]) }
        w.every { k, v -> (0..<v.length).every { Math.abs(v[it] - a[k][it]) < 1e-6 } }

        cleanup:
        [accumulated, whole].each { m -> m.namedParameters().values().each { it.value().close() } }
    }

    /** One optimizer step over the first {@code batch * accum} examples of epoch 1, without dropout. */
    void step(TinyMlp m, int batch, int accum) {
        def task = new ToyTask(m, 40, batch, 42, 0f)
        def opt = new Sgd(m.namedParameters().values().toList(), 0, 0)
        def c = new TrainConfig(1, batch, accum, 0, 42, 0, 1, 8)
        new Trainer(m, task, opt, c, TrainingListener.NONE, manager, null)
                .fit(task, new LrSchedule(new ScheduleConfig(ScheduleConfig.Kind.CONSTANT, 0), 0.1, 1), { [:] } as Trainer.Evaluation)
        opt.close()
    }

    def "hundreds of steps leave no more live arrays behind than the first step did"() {
        given:
        def m = model()
        def task = new ToyTask(m, 64, 8, 42)
        def opt = new AdamW(m.namedParameters().values().toList(), 0.9, 0.999, 1e-8, 0.01)
        def c = new TrainConfig(40, 8, 2, 1.0, 42, 0, 0, 8)
        Map<Integer, Integer> live = [:]
        def probe = new TrainingListener() {
            @Override
            void onStep(StepInfo s) {
                if (s.step() in [1, 50, 160]) live[s.step()] = ((BaseNDManager) manager).managedArrays.size()
            }
        }

        when: '40 epochs of 4 steps'
        def result = new Trainer(m, task, opt, c, probe, manager, null)
                .fit(task, new LrSchedule(ScheduleConfig.linear(0.1), 1e-3, 160), { [:] } as Trainer.Evaluation)

        then:
        result.steps() == 160
        live[50] == live[1]
        live[160] == live[1]

        cleanup:
        opt.close()
        m.namedParameters().values().each { it.value().close() }
    }
}
