package org.peft4j.dist

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.Shape
import spock.lang.Requires
import spock.lang.Specification

import java.util.concurrent.Callable
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * Times the whole path of one allReduceMean (worker arrays -> shared memory -> agent -> Gloo -> back into the
 * arrays) for two workers on 127.0.0.1, and the agents' start-up. A measurement, not a check: it runs only when
 * asked, {@code mvn -o test -pl runtime -Dtest=AllReduceTimingSpec -Dpeft4j.dist.timing=true}.
 */
@Requires({ System.getProperty('peft4j.dist.timing') == 'true' })
class AllReduceTimingSpec extends Specification {

    def "median time per allReduceMean, two workers on 127.0.0.1"() {
        given:
        ExecutorService pool = Executors.newFixedThreadPool(2)
        NDManager manager = NDManager.newBaseManager()
        int port = new ServerSocket(0).withCloseable { it.localPort }
        long started = System.nanoTime()
        List<GlooProcessGroup> groups = both(pool) { rank ->
            GlooProcessGroup.start(new World(rank, 2, rank, '127.0.0.1', port), new DistSettings(60, 600))
        }
        double startup = (System.nanoTime() - started) / 1e9
        printf('agents started (both ranks ready) in %.2f s%n', startup)

        expect: 'one double: the round trip worker -> agent -> Gloo -> back, with almost no data'
        List<List<Double>> trips = both(pool) { rank ->
            (0..100).collect {
                long t = System.nanoTime()
                groups[rank].allReduceSum(1d)
                (System.nanoTime() - t) / 1e6
            }.drop(1)
        }
        printf('one double: median %.3f ms per allReduceSum over 100 calls%n', trips[0].sort(false)[50])

        for (Map.Entry<String, List<Long>> size : [
                'MiniLM LoRA gradients (74,498 floats)': [74_498L, 30L],
                'MiniLM full gradients (22.7M floats)' : [22_713_216L, 10L]].entrySet()) {
            long n = size.value[0]
            int calls = size.value[1] as int
            // a LoRA model's gradients come as many arrays: a split in four stands for them
            List<List<NDArray>> arrays = (0..1).collect { rank ->
                (0..3).collect { manager.randomUniform(-1f, 1f, new Shape(n.intdiv(4))) }
            }
            List<List<Double>> times = both(pool) { rank ->
                (0..calls).collect {
                    long t = System.nanoTime()
                    groups[rank].allReduceMean(arrays[rank])
                    (System.nanoTime() - t) / 1e6
                }.drop(1)
            }
            List<Double> sorted = times[0].sort(false)
            printf('%s: median %.2f ms per allReduceMean over %d calls (min %.2f, max %.2f)%n', size.key,
                    sorted[sorted.size().intdiv(2)], calls, sorted.first(), sorted.last())
        }
        true

        cleanup:
        groups?.each { it.close() }
        manager?.close()
        pool?.shutdownNow()
    }

    private static <T> List<T> both(ExecutorService pool, Closure<T> work) {
        (0..1).collect { int rank -> pool.submit({ work(rank) } as Callable<T>) }
                .collect { it.get(300, TimeUnit.SECONDS) }
    }
}
