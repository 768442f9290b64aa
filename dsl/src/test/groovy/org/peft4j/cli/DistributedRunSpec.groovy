package org.peft4j.cli

import ai.djl.ndarray.NDManager
import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.tensor.Backend
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * `peft4j run --nproc 2` end to end: two worker JVMs on 127.0.0.1 averaging gradients through c10d (Gloo),
 * against one process, on a tiny random Llama (no dropout anywhere, so the two must agree to float summation
 * order); and a worker killed mid-run, then the run resumed from its last checkpoint.
 */
class DistributedRunSpec extends Specification {

    static final ObjectMapper JSON = new ObjectMapper()
    static final double TOLERANCE = 1e-5

    @Shared @TempDir
    Path dir
    @Shared Path recipe

    def setupSpec() {
        TinyCausalLmDir.write(dir.resolve('lm'), 11)
        // lines of 1 to 30 characters: the workers' shares hold different numbers of learned tokens
        Random random = new Random(3)
        String chars = TinyCausalLmDir.CHARS
        List<String> lines = (0..<22).collect { int i ->
            int n = 1 + random.nextInt(30)
            '{"text": "' + (0..<n).collect { chars[random.nextInt(chars.length())] }.join('') + '"}'
        }
        Files.write(dir.resolve('lm.jsonl'), lines)
        recipe = Files.writeString(dir.resolve('dp.groovy'), """\
recipe 'dp'
model { path '${dir}/lm'; task causalLm() }
lora { r 4; alpha 8; dropout 0.0; target 'q_proj', 'v_proj' }
data { train texts('${dir}/lm.jsonl'); maxLength 32 }
optimizer adamW(lr: 1e-2, weightDecay: 0.0)
train { batchSize 6; gradAccum 2; clipNorm 0.1; epochs 3; seed 5 }
""")
    }

    static List<Double> losses(Path run) {
        Files.readAllLines(run.resolve('metrics.jsonl')).collect { JSON.readTree(it) }
                .findAll { it.path('type').asText() == 'train' }.collect { it.path('loss').asDouble() }
    }

    static Map<String, float[]> adapter(Path run) {
        NDManager m = Backend.get().manager().newSubManager()
        try {
            SafeTensors.read(run.resolve('adapter/adapter_model.safetensors'), m)
                    .collectEntries { k, v -> [k, v.toFloatArray()] } as Map<String, float[]>
        } finally {
            m.close()
        }
    }

    def "two worker processes train the adapter one process trains: the same losses and weights within 1e-5"() {
        when:
        Cli one = Cli.run('run', recipe.toString(), '--out', dir.resolve('one').toString(), '--quiet')
        Cli two = Cli.run('run', recipe.toString(), '--out', dir.resolve('two').toString(), '--quiet', '--nproc', '2')

        then:
        one.code == 0
        two.code == 0

        and: '4 batches an epoch, 2 accumulated: 2 steps an epoch, 6 in all'
        List<Double> a = losses(dir.resolve('one'))
        List<Double> b = losses(dir.resolve('two'))
        a.size() == 6 && b.size() == 6
        (0..<6).every { Math.abs(a[it] - b[it]) <= TOLERANCE }

        and:
        Map<String, float[]> x = adapter(dir.resolve('one'))
        Map<String, float[]> y = adapter(dir.resolve('two'))
        x.keySet() == y.keySet()
        x.every { k, v -> (0..<v.length).every { Math.abs(v[it] - y[k][it]) <= TOLERANCE } }

        and: 'rank 0 recorded the world size'
        JSON.readTree(dir.resolve('two/summary.json').toFile()).path('world_size').asInt() == 2
    }

    def "a killed worker ends the run within seconds naming its rank; the same command then resumes from the last checkpoint"() {
        given: 'a longer run with a checkpoint every step'
        Path out = dir.resolve('killed')
        List<String> args = ['run', recipe.toString(), '--out', out.toString(), '--quiet', '--nproc', '2',
                             '--set', 'train.epochs=60', '--set', 'train.checkpointEvery=1']
        Cli first = null
        Thread launcher = Thread.start { first = Cli.run(*args) }

        when: 'rank 1 (the second worker this JVM started) is killed once rank 0 wrote its third checkpoint'
        waitFor(60) { Files.exists(out.resolve('checkpoints/step-000003/state.json')) }
        List<ProcessHandle> workers = ProcessHandle.current().children()
                .filter { it.info().commandLine().orElse('').contains(Main.name) }
                .sorted(Comparator.comparing { ProcessHandle p -> p.info().startInstant().orElse(null) })
                .toList()
        long killedAt = System.nanoTime()
        workers[1].destroyForcibly()
        launcher.join(60_000)
        double seconds = (System.nanoTime() - killedAt) / 1e9

        then:
        workers.size() == 2
        first.code != 0
        first.err.toString().contains('worker rank 1 of 2 exited with code 137')
        seconds < 15

        when: 'the same command again'
        Cli again = Cli.run(*args)
        def summary = JSON.readTree(out.resolve('summary.json').toFile())

        then: 'it resumed from a checkpoint and finished the plan'
        again.code == 0
        summary.path('resumed_from_step').asInt() >= 3
        summary.path('steps').asInt() == 120
    }

    static void waitFor(int seconds, Closure<Boolean> condition) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        while (!condition.call()) {
            assert System.nanoTime() < end: "waited ${seconds} s"
            Thread.sleep(50)
        }
    }
}
