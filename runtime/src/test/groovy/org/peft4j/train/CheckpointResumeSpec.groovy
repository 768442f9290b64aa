package org.peft4j.train

import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import org.peft4j.testing.ToyTask
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Checkpoints and resume on a 10→20→2 MLP with input dropout: seconds, not minutes. */
class CheckpointResumeSpec extends Specification {

    @TempDir Path tmp

    def manager = Backend.get().manager()
    List<Map> runs = []

    /** A model initialised from a fixed seed, its toy task and an AdamW over all its parameters. */
    Map fresh(int batchSize = 8) {
        Backend.get().seed(7)
        def model = new TinyMlp(manager)
        model.setTrainable(true)
        def run = [model: model, task: new ToyTask(model, 40, batchSize, 42),
                   opt  : new AdamW(model.namedParameters().values().toList(), 0.9, 0.999, 1e-8, 0.01)]
        runs << run
        run
    }

    def cleanup() {
        runs.each { r ->
            r.opt.close()
            r.model.namedParameters().values().each { it.value().close() }
        }
    }

    Checkpoints checkpoints(Map r, Path dir, int keep = 2, Checkpoints.TensorWriter writer = null) {
        def ids = [seed: 42L, examples: 40] as Map<String, Object>
        writer == null ? new Checkpoints(dir, keep, r.model.namedParameters(), r.opt, ids)
                : new Checkpoints(dir, keep, r.model.namedParameters(), r.opt, ids, writer)
    }

    static TrainConfig config(int gradAccum, int every) {
        new TrainConfig(3, 8, gradAccum, 1.0, 42, 0, 0, 8).withCheckpoints(every, 2)
    }

    static LrSchedule schedule(TrainConfig c, int batches) {
        new LrSchedule(ScheduleConfig.linear(0.2), 1e-2, Trainer.totalSteps(c, batches))
    }

    /** Records every step's loss; throws (a crash) right after step {@code crashAt}. */
    static TrainingListener recorder(List<Double> losses, int crashAt = -1) {
        new TrainingListener() {
            @Override
            void onStep(StepInfo s) {
                losses << s.loss()
                if (s.step() == crashAt) {
                    throw new IllegalStateException('crash after step ' + crashAt)
                }
            }
        }
    }

    Trainer.Result fit(Map r, TrainConfig c, TrainingListener l, Checkpoints ck, TrainState from = TrainState.start()) {
        new Trainer(r.model, r.task, r.opt, c, l, manager, ck).fit(r.task, schedule(c, r.task.batchesPerEpoch()),
                { [:] } as Trainer.Evaluation, from)
    }

    def "a run resumed from its newest checkpoint continues with exactly the losses and weights of the uninterrupted run"() {
        given: 'the uninterrupted run'
        def c = config(gradAccum, every)
        def whole = fresh()
        List<Double> expected = []
        fit(whole, c, recorder(expected), checkpoints(whole, tmp.resolve('whole')))

        and: 'the same run, crashing after step crashAt'
        def first = fresh()
        def dir = tmp.resolve('crashed')
        List<Double> before = []
        try {
            fit(first, c, recorder(before, crashAt), checkpoints(first, dir))
        } catch (IllegalStateException ignored) {
        }

        when: 'a new process (a new model, a new optimizer) resumes from the newest checkpoint'
        def second = fresh()
        def ck = checkpoints(second, dir)
        def loaded = ck.newestValid { }
        ck.restore(loaded, manager)
        List<Double> after = []
        def result = fit(second, c, recorder(after), ck, loaded.state())

        then: 'it resumed mid-epoch where expected, and every later loss is the same double'
        loaded.state().step() == resumeStep
        [loaded.state().epoch(), loaded.state().batch()] == position
        after == expected.drop(resumeStep)
        result.steps() == expected.size()
        second.model.snapshot().every { k, v -> Arrays.equals(v, whole.model.snapshot()[k]) }

        where:
        gradAccum | every | crashAt || resumeStep | position
        1         | 3     | 7       || 6          | [2, 1]
        2         | 2     | 5       || 4          | [2, 2]
    }

    def "a checkpoint holds the weights, the optimizer state and state.json with a hash of each file; the last K are kept"() {
        given:
        def r = fresh()
        def dir = tmp.resolve('ck')

        when:
        fit(r, config(1, 4), TrainingListener.NONE, checkpoints(r, dir))

        then: 'steps 4, 8, 12 and the end (15) were written; the newest two are kept'
        Files.list(dir).toList()*.fileName*.toString().sort() == ['step-000012', 'step-000015']
        def last = dir.resolve('step-000015')
        SafeTensors.names(last.resolve(Checkpoints.TRAINABLE)).toSet() == r.model.namedParameters().keySet()
        SafeTensors.names(last.resolve(Checkpoints.OPTIMIZER)).size() == 2 * r.model.namedParameters().size()
        def state = checkpoints(r, dir).check(last)
        state.optimizerSteps() == 15
        state.state().step() == 15
        [state.state().epoch(), state.state().batch()] == [4, 0]
        state.json().path('files').size() == 2
        state.json().path('rng').path('next_dropout_seed').asLong() == 42L * 1_000_003 + 15
    }

    def "a damaged or incomplete checkpoint is reported and the one before it is used"() {
        given: 'checkpoints of steps 12 and 15'
        def r = fresh()
        def dir = tmp.resolve('ck')
        fit(r, config(1, 4), TrainingListener.NONE, checkpoints(r, dir))
        DAMAGE[what](dir.resolve('step-000015'))
        List<String> reports = []

        when:
        def loaded = checkpoints(fresh(), dir).newestValid { reports << it }

        then:
        loaded.state().step() == 12
        reports[0].contains('step-000015') && reports[0].contains(why)
        reports[1] == 'using step-000012 instead'

        where:
        what                        || why
        'a flipped weight byte'     || 'is damaged: trainable.safetensors has SHA-256'
        'a truncated optimizer file'|| 'is damaged: optimizer.safetensors'
        'no optimizer file'         || 'is incomplete: optimizer.safetensors is missing'
        'no state.json'             || 'is incomplete: state.json is missing'
        'a torn state.json'         || 'has an unreadable state.json'
    }

    static final Map<String, Closure> DAMAGE = [
            'a flipped weight byte'     : { Path d -> flipByte(d.resolve(Checkpoints.TRAINABLE)) },
            'a truncated optimizer file': { Path d -> truncate(d.resolve(Checkpoints.OPTIMIZER)) },
            'no optimizer file'         : { Path d -> Files.delete(d.resolve(Checkpoints.OPTIMIZER)) },
            'no state.json'             : { Path d -> Files.delete(d.resolve(Checkpoints.STATE)) },
            'a torn state.json'         : { Path d -> Files.writeString(d.resolve(Checkpoints.STATE), '{"format": 1, "fil') },
    ]

    def "when every checkpoint is damaged, loading fails and says why for each"() {
        given:
        def r = fresh()
        def dir = tmp.resolve('ck')
        fit(r, config(1, 4), TrainingListener.NONE, checkpoints(r, dir))
        Files.list(dir).each { Files.delete(it.resolve(Checkpoints.STATE)) }

        when:
        checkpoints(r, dir).newestValid { }

        then:
        def e = thrown(CheckpointException)
        e.message.startsWith('no usable checkpoint in ' + dir)
        e.message.contains('step-000012 is incomplete') && e.message.contains('step-000015 is incomplete')
    }

    def "a checkpoint made with other settings is refused rather than resumed"() {
        given:
        def r = fresh()
        def dir = tmp.resolve('ck')
        fit(r, config(1, 4), TrainingListener.NONE, checkpoints(r, dir))
        def other = new Checkpoints(dir, 2, r.model.namedParameters(), r.opt, [seed: 43L, examples: 40] as Map<String, Object>)

        when:
        other.check(dir.resolve('step-000015'))

        then:
        def e = thrown(CheckpointException)
        e.message.contains('was made with seed = 42 but this run has 43')
    }

    def "a failed checkpoint write leaves the previous checkpoint intact, no half-written folder, and stops the run saying so"() {
        given: 'a disk that fills up at the third checkpoint'
        def r = fresh()
        def dir = tmp.resolve('ck')
        int files = 0
        def writer = { Path f, Map t ->
            if (++files == 5) {
                throw new IOException('No space left on device')
            }
            SafeTensors.write(f, t, [format: 'pt'])
        } as Checkpoints.TensorWriter

        when:
        fit(r, config(1, 2), TrainingListener.NONE, checkpoints(r, dir, 2, writer))

        then:
        def e = thrown(TrainingException)
        e.message.contains('could not write the checkpoint of step 6')
        e.message.contains('No space left on device')
        e.message.contains('the previous checkpoint step-000004 is intact')
        e.message.contains('training stopped at step 6')

        and: 'only whole checkpoints remain, and the newest loads'
        Files.list(dir).toList()*.fileName*.toString().sort() == ['step-000002', 'step-000004']
        checkpoints(fresh(), dir).newestValid { }.state().step() == 4
    }

    def "a non-finite loss stops the run with a clear message and the last good checkpoint stays loadable"() {
        given: 'an objective that returns NaN at the 5th step'
        def r = fresh()
        def dir = tmp.resolve('ck')
        int calls = 0
        def nanAt5 = { batch -> ++calls == 5 ? r.task.loss(batch).mul(Float.NaN) : r.task.loss(batch) } as TrainingObjective
        Map<String, float[]> atStep4 = null
        def snapshot = new TrainingListener() {
            @Override
            void onCheckpoint(Path d, int step) {
                if (step == 4) atStep4 = r.model.snapshot()
            }
        }

        when:
        new Trainer(r.model, nanAt5, r.opt, config(1, 2), snapshot, manager, checkpoints(r, dir))
                .fit(r.task, schedule(config(1, 2), 5), { [:] } as Trainer.Evaluation)

        then:
        def e = thrown(TrainingException)
        e.message.contains('the training loss became NaN at step 5')
        e.message.contains('The last good checkpoint is ' + dir.resolve('step-000004'))

        when: 'the checkpoint is restored into a new model'
        def again = fresh()
        def ck = checkpoints(again, dir)
        ck.restore(ck.newestValid { }, manager)

        then:
        again.model.snapshot().every { k, v -> Arrays.equals(v, atStep4[k]) }
    }

    def "early stopping ends the run after patience evaluations without a new best, and the best checkpoint is kept"() {
        given: 'scripted validation scores, one evaluation per step'
        def r = fresh()
        def dir = tmp.resolve('ck')
        List<Double> scores = [0.5d, 0.7d, 0.6d, 0.65d, 0.69d, 0.9d, 0.95d]
        def c = new TrainConfig(3, 8, 1, 0, 42, 1, 0, 8).withCheckpoints(0, 1).withBest('valid.f1', MetricMode.MAX)
                .withEarlyStopping(3)
        def eval = { int step -> ['valid.f1': scores[step - 1]] } as Trainer.Evaluation

        when:
        def result = new Trainer(r.model, r.task, r.opt, c, TrainingListener.NONE, manager, checkpoints(r, dir, 1))
                .fit(r.task, schedule(c, 5), eval)

        then:
        result.stoppedEarly()
        result.steps() == 5
        result.bestStep() == 2
        result.bestValue() == 0.7
        Files.list(dir).toList()*.fileName*.toString().sort() == ['step-000002', 'step-000005']
        checkpoints(r, dir).check(dir.resolve('step-000005')).state().evalsSinceBest() == 3
    }

    def "with mode min a smaller metric is the better one"() {
        expect:
        MetricMode.MIN.improves(0.2, 0.3)
        !MetricMode.MIN.improves(0.3, 0.2)
        MetricMode.MAX.improves(0.1, Double.NaN)
        !MetricMode.MAX.improves(Double.NaN, 0.1)
        MetricMode.defaultFor('loss') == MetricMode.MIN
        MetricMode.defaultFor('f1') == MetricMode.MAX
    }

    static void flipByte(Path f) {
        byte[] b = Files.readAllBytes(f)
        b[b.length - 1] ^= 0x01
        Files.write(f, b)
    }

    static void truncate(Path f) {
        byte[] b = Files.readAllBytes(f)
        Files.write(f, Arrays.copyOf(b, b.length.intdiv(2)))
    }
}
