package org.peft4j.dist

import ai.djl.engine.Engine
import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import ai.djl.training.GradientCollector
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Stepwise

import java.util.concurrent.Callable
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.Future
import java.util.concurrent.TimeUnit

/**
 * Two workers on 127.0.0.1 in one JVM, each its own GlooProcessGroup with its own c10d agent, as two worker
 * processes would have. The collectives run on c10d's Gloo; the expected values are computed here by hand.
 */
@Stepwise
class GlooProcessGroupSpec extends Specification {

    static final DistSettings QUICK = new DistSettings(30, 30)

    @Shared @AutoCleanup('shutdownNow')
    ExecutorService pool = Executors.newFixedThreadPool(2)
    @Shared @AutoCleanup
    NDManager manager = NDManager.newBaseManager()
    @Shared
    List<GlooProcessGroup> groups

    def setupSpec() {
        groups = openPair(freePort(), QUICK)
    }

    def cleanupSpec() {
        groups?.each { it.close() }
    }

    def "allReduceMean replaces every array by the element-wise mean over the workers"() {
        given: 'each worker holds three arrays of different shapes, with different values'
        Random random = new Random(7)
        List<List<float[]>> values = (0..1).collect { rank ->
            [6, 12, 5].collect { n -> (0..<n).collect { random.nextGaussian() as float } as float[] }
        }
        List<Shape> shapes = [new Shape(2, 3), new Shape(3, 2, 2), new Shape(5)]
        List<List<NDArray>> arrays = (0..1).collect { rank ->
            (0..2).collect { i -> manager.create(values[rank][i], shapes[i]) }
        }

        when:
        both { rank -> groups[rank].allReduceMean(arrays[rank]) }

        then: 'on both workers, every element is (a + b) / 2 and every shape is kept'
        (0..1).every { rank ->
            (0..2).every { i ->
                float[] got = arrays[rank][i].toFloatArray()
                arrays[rank][i].shape == shapes[i] &&
                        (0..<got.length).every { j -> Math.abs(got[j] - (values[0][i][j] + values[1][i][j]) / 2f) < 1e-6 }
            }
        }
    }

    def "the mean reaches a parameter's gradient in place, where an optimizer reads it"() {
        given: "w's gradient of sum(w * (rank + 1)) is rank + 1 on each worker"
        List<NDArray> weights = (0..1).collect { rank ->
            NDArray w = manager.create([1f, 2f, 3f] as float[])
            w.setRequiresGradient(true)
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(w.mul((rank + 1) as float).sum())
            }
            w
        }

        when:
        both { rank -> groups[rank].allReduceMean([weights[rank].getGradient()]) }

        then: 'a fresh look at each gradient sees the mean, (1 + 2) / 2'
        weights.every { w -> w.getGradient().toFloatArray() as List == [1.5f, 1.5f, 1.5f] }
    }

    def "allReduceSum adds the workers' doubles, larger than the shared memory at first"() {
        given:
        int n = 200_000
        double[][] values = (0..1).collect { rank -> (0..<n).collect { i -> i * 0.5d + rank * 1e9d } as double[] }

        when:
        List<double[]> sums = both { rank -> groups[rank].allReduceSum(values[rank]) }

        then:
        sums.every { s -> s.length == n && (0..<n).every { i -> s[i] == values[0][i] + values[1][i] } }
    }

    def "barrier returns once both workers have called it"() {
        when:
        long started = System.nanoTime()
        Future<Long> late = pool.submit({
            Thread.sleep(1500)
            groups[1].barrier()
            System.nanoTime()
        } as Callable<Long>)
        groups[0].barrier()
        long released = System.nanoTime()

        then: 'rank 0 waited for rank 1'
        (released - started) / 1e6 >= 1400
        late.get(30, TimeUnit.SECONDS) > 0
    }

    def "arrays larger than one chunk of shared memory, or spanning two, are averaged piece by piece"() {
        given: 'chunks of 5 floats, and arrays of 6, 12, 1 and 5 elements: most span a chunk boundary'
        System.setProperty('peft4j.dist.chunkFloats', '5')
        List<GlooProcessGroup> chunked = openPair(freePort(), QUICK)
        System.clearProperty('peft4j.dist.chunkFloats')
        Random random = new Random(11)
        List<Shape> shapes = [new Shape(2, 3), new Shape(3, 4), new Shape(1), new Shape(5)]
        List<List<float[]>> values = (0..1).collect { rank ->
            shapes.collect { shape -> (0..<shape.size()).collect { random.nextGaussian() as float } as float[] }
        }
        List<List<NDArray>> arrays = (0..1).collect { rank ->
            (0..<shapes.size()).collect { i -> manager.create(values[rank][i], shapes[i]) }
        }

        when:
        both { rank -> chunked[rank].allReduceMean(arrays[rank]) }

        then: 'every element is (a + b) / 2, as without chunks'
        (0..1).every { rank ->
            (0..<shapes.size()).every { i ->
                float[] got = arrays[rank][i].toFloatArray()
                arrays[rank][i].shape == shapes[i] &&
                        (0..<got.length).every { j -> Math.abs(got[j] - (values[0][i][j] + values[1][i][j]) / 2f) < 1e-6 }
            }
        }

        cleanup:
        chunked?.each { it.close() }
    }

    def "a worker whose peer dies fails its next collective within seconds, naming its rank"() {
        given: "rank 1's worker dies: its agent goes with it"
        groups[1].agentProcess().destroyForcibly().waitFor()

        when:
        long started = System.nanoTime()
        groups[0].allReduceSum(1d)

        then:
        DistributedException e = thrown()
        e.message.startsWith('rank 0: lost a peer during allreduce')
        (System.nanoTime() - started) / 1e9 < 10
    }

    def "a worker that cannot reach the master says which address it tried"() {
        given: 'no rank 0 listens on this port'
        int port = freePort()

        when:
        long started = System.nanoTime()
        GlooProcessGroup.start(new World(1, 2, 1, '127.0.0.1', port), new DistSettings(3, 30))

        then:
        DistributedException e = thrown()
        e.message.startsWith("rank 1 could not reach the master at 127.0.0.1:$port within 3 s")
        (System.nanoTime() - started) / 1e9 < 30
    }

    def "a worker whose peer hangs fails its collective after the collective timeout, naming it"() {
        given: 'a pair that waits 3 s for a collective'
        List<GlooProcessGroup> pair = openPair(freePort(), new DistSettings(30, 3))

        when: 'rank 0 calls a barrier that rank 1 never joins'
        long started = System.nanoTime()
        pair[0].barrier()

        then:
        DistributedException e = thrown()
        e.message.startsWith('rank 0: a peer did not join the barrier within 3 s (PEFT4J_DIST_COLLECTIVE_TIMEOUT)')
        (System.nanoTime() - started) / 1e9 < 15

        cleanup:
        pair?.each { it.close() }
    }

    def "a closed group's agent has ended"() {
        given:
        GlooProcessGroup group = groups[0]

        when:
        group.close()

        then:
        !group.agentProcess().isAlive()
    }

    private List<GlooProcessGroup> openPair(int port, DistSettings settings) {
        both { rank -> GlooProcessGroup.start(new World(rank, 2, rank, '127.0.0.1', port), settings) }
    }

    /** Runs {@code work(rank)} for ranks 0 and 1 at once, as two workers would, and returns their results. */
    private <T> List<T> both(Closure<T> work) {
        List<Future<T>> futures = (0..1).collect { int rank -> pool.submit({ work(rank) } as Callable<T>) }
        futures.collect { it.get(120, TimeUnit.SECONDS) }
    }

    private static int freePort() {
        new ServerSocket(0).withCloseable { it.localPort }
    }
}
