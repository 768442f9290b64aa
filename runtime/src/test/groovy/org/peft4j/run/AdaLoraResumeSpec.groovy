package org.peft4j.run

import org.peft4j.peft.adalora.AdaLoraConfig
import org.peft4j.peft.adalora.AdaLoraInjector
import org.peft4j.peft.adalora.AdaLoraStepHook
import org.peft4j.train.AdamW
import org.peft4j.train.CheckpointException
import org.peft4j.train.Checkpoints
import org.peft4j.train.LrSchedule
import org.peft4j.train.ScheduleConfig
import org.peft4j.train.StepInfo
import org.peft4j.train.TrainConfig
import org.peft4j.train.TrainState
import org.peft4j.train.Trainer
import org.peft4j.train.TrainingListener
import org.peft4j.tensor.Backend
import org.peft4j.testing.TinyMlp
import org.peft4j.testing.ToyTask
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * AdaLoRA on the 10→20→2 MLP's toy task, 15 steps, interrupted and resumed: the checkpoint holds the rank
 * allocator's scores, masks and counters, so the resumed run allocates as the uninterrupted one.
 */
class AdaLoraResumeSpec extends Specification {

    @TempDir Path tmp

    def manager = Backend.get().manager()
    List<Map> runs = []

    /** 15 steps: warm-up 2, allocations every 2 steps until the mask is fixed at 12; λ at 4× the learning rate. */
    static final AdaLoraConfig CONFIG = AdaLoraConfig.builder().initR(4).targetR(2).tinit(2).tfinal(3).deltaT(2)
            .orthReg(0.1).lambdaLrRatio(4).targets(['fc1', 'fc2']).build()
    static final TrainConfig TRAIN = new TrainConfig(3, 8, 1, 1.0, 42, 0, 0, 8).withCheckpoints(3, 2)

    Map fresh() {
        Backend.get().seed(7)
        def model = new TinyMlp(manager)
        def ada = AdaLoraInjector.inject(model, CONFIG, manager)
        def task = new ToyTask(model, 40, 8, 42)
        def opt = new AdamW(ada.adapterParameters().values().toList(), 0.9, 0.999, 1e-8, 0.01)
        def hook = new AdaLoraStepHook(ada.hook(Trainer.totalSteps(TRAIN, task.batchesPerEpoch())))
        def run = [model: model, ada: ada, task: task, opt: opt, hook: hook]
        runs << run
        run
    }

    def cleanup() {
        runs.each { it.opt.close() }
    }

    Checkpoints checkpoints(Map r, Path dir) {
        new Checkpoints(dir, 2, r.ada.adapterParameters(), r.opt, [seed: 42L] as Map<String, Object>)
    }

    /** Every step's loss, the allocator's state after step {@code snapshotAt}, and a crash after {@code crashAt}. */
    static TrainingListener recorder(Map r, List<Double> losses, Map<String, float[]> snapshot, int snapshotAt,
                                     int crashAt = -1) {
        new TrainingListener() {
            @Override
            void onStep(StepInfo s) {
                losses << s.loss()
                if (s.step() == snapshotAt) {
                    snapshot.putAll(state(r))
                }
                if (s.step() == crashAt) {
                    throw new IllegalStateException('crash after step ' + crashAt)
                }
            }
        }
    }

    static Map<String, float[]> state(Map r) {
        r.hook.state().arrays().collectEntries { k, v -> [k, v.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray()] }
    }

    Trainer.Result fit(Map r, TrainingListener l, Checkpoints ck, TrainState from = TrainState.start()) {
        def schedule = new LrSchedule(ScheduleConfig.linear(0.2), 1e-2, Trainer.totalSteps(TRAIN, r.task.batchesPerEpoch()))
        new Trainer(r.model, r.task, r.opt, TRAIN, l, manager, ck).withHook(r.hook)
                .fit(r.task, schedule, { [:] } as Trainer.Evaluation, from)
    }

    def "a resumed AdaLoRA run has the uninterrupted run's importance state, losses, masks and final ranks"() {
        given: 'the uninterrupted run, its allocator state after step 6 noted'
        def whole = fresh()
        List<Double> expected = []
        Map<String, float[]> atSix = [:]
        fit(whole, recorder(whole, expected, atSix, 6), checkpoints(whole, tmp.resolve('whole')))

        and: 'the same run, crashing after step 7 (the newest checkpoint is step 6)'
        def first = fresh()
        def dir = tmp.resolve('crashed')
        try {
            fit(first, recorder(first, [], [:], -1, 7), checkpoints(first, dir))
        } catch (IllegalStateException ignored) {
        }

        when: 'a new model, optimizer and hook resume from the newest checkpoint'
        def second = fresh()
        def ck = checkpoints(second, dir)
        def loaded = ck.newestValid { }
        ck.restore(loaded, manager)
        ck.restoreHook(loaded, second.hook, manager)
        def restored = state(second)
        List<Double> after = []
        fit(second, recorder(second, after, [:], -1), ck, loaded.state())

        then: 'the restored Ī, Ū, masks, return counts and budget trace are the ones of step 6, bit for bit'
        loaded.state().step() == 6
        restored.keySet() == atSix.keySet()
        restored.keySet().any { it.startsWith('ipt.') } && restored.keySet().any { it.startsWith('mask.') }
        restored.every { k, v -> Arrays.equals(v, atSix[k]) }

        and: 'every later loss is the same double, and the final masks, ranks and trace are the same'
        after == expected.drop(6)
        second.ada.rankPattern() == whole.ada.rankPattern()
        second.ada.ranks() == whole.ada.ranks()
        second.ada.ranks().values().sum() == 4
        second.hook.adalora().report().trace() == whole.hook.adalora().report().trace()
        second.hook.adalora().allocator().updates() == whole.hook.adalora().allocator().updates()
        second.model.snapshot().every { k, v -> Arrays.equals(v, whole.model.snapshot()[k]) }
    }

    def "the allocator's state is a hashed file of the checkpoint with its counters in state.json, and damage is caught"() {
        given:
        def r = fresh()
        def ck = checkpoints(r, tmp.resolve('hooked'))
        def saved = ck.save(new TrainState(3, 1, 3, 0, 0, Double.NaN, 0, 0, [:]), r.hook.state())

        expect:
        def json = ck.check(saved).json()
        json.path('files').has(Checkpoints.HOOK)
        json.path('hook').path('counters').has('updates')

        when: 'one byte of hook.safetensors changes'
        def file = saved.resolve(Checkpoints.HOOK)
        byte[] bytes = java.nio.file.Files.readAllBytes(file)
        bytes[bytes.length - 1] ^= 1
        java.nio.file.Files.write(file, bytes)
        ck.check(saved)

        then:
        def e = thrown(CheckpointException)
        e.message.contains('is damaged: hook.safetensors has SHA-256')
    }

    def "a checkpoint written without the allocator's state is refused for an AdaLoRA run"() {
        given: 'a checkpoint of an AdaLoRA model saved with no hook state'
        def r = fresh()
        def ck = checkpoints(r, tmp.resolve('plain'))
        ck.save(new TrainState(3, 1, 3, 0, 0, Double.NaN, 0, 0, [:]))

        when:
        ck.restoreHook(ck.newestValid { }, fresh().hook, manager)

        then:
        def e = thrown(CheckpointException)
        e.message.contains('holds no hook.safetensors')
        e.message.contains('start a new run directory')
    }
}
