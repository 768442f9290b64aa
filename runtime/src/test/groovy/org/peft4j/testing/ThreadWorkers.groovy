package org.peft4j.testing

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.index.NDIndex
import org.peft4j.dist.DistributedException
import org.peft4j.dist.ProcessGroup
import org.peft4j.dist.World

import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.Condition
import java.util.concurrent.locks.ReentrantLock

/**
 * N data-parallel workers as threads of one JVM, for testing the training loop without c10d: each thread gets
 * a {@link ProcessGroup} whose collectives sum in rank order. The engine allows one gradient collector at a
 * time, so the workers take turns: exactly one thread runs between two collectives, rank 0 first; a
 * collective hands the turn to the next rank, and the last arrival computes the result and gives it back to
 * rank 0. Sums are taken in double over ranks 0..N-1, so every worker gets the same bits.
 */
class ThreadWorkers {

    private static final long TIMEOUT_SECONDS = 120

    final int size
    private final ReentrantLock lock = new ReentrantLock()
    private final Condition changed = lock.newCondition()
    private final Object[] deposits
    private final boolean[] done
    private Object result
    private int arrived
    private long round
    private int turn
    private Throwable failure

    private ThreadWorkers(int size) {
        this.size = size
        this.deposits = new Object[size]
        this.done = new boolean[size]
    }

    /**
     * Runs {@code body(group)} on {@code size} threads, one per rank, and returns each rank's result in rank
     * order; a failure of any rank fails the others' collectives and is rethrown here.
     */
    static <T> List<T> run(int size, Closure<T> body) {
        ThreadWorkers w = new ThreadWorkers(size)
        List<T> results = Collections.synchronizedList(new ArrayList<T>(Collections.nCopies(size, null)))
        List<Thread> threads = (0..<size).collect { int rank ->
            new Thread({
                try {
                    w.awaitTurn(rank)
                    results.set(rank, body.call(w.group(rank)))
                } catch (Throwable t) {
                    w.fail(t)
                } finally {
                    w.leave(rank)
                }
            }, "worker-${rank}")
        }
        threads*.start()
        threads*.join()
        if (w.failure != null) {
            throw w.failure
        }
        results
    }

    ProcessGroup group(int rank) {
        World world = new World(rank, size, rank, '127.0.0.1', 29500)
        ThreadWorkers self = this
        new ProcessGroup() {
            @Override
            World world() {
                world
            }

            @Override
            void allReduceMean(List<NDArray> arrays) {
                List<float[]> mine = arrays.collect { it.toFloatArray() }
                List<float[]> mean = (List<float[]>) self.collective(rank, mine) { Object[] all ->
                    (0..<arrays.size()).collect { int a ->
                        float[] out = new float[mine[a].length]
                        for (int i = 0; i < out.length; i++) {
                            double s = 0
                            for (Object d : all) {
                                s += ((List<float[]>) d)[a][i]
                            }
                            out[i] = (float) (s / all.length)
                        }
                        out
                    }
                }
                // an indexed copy writes into the gradient's own memory; set(float[]) may leave the array aliasing a
                // Java buffer that the garbage collector later frees
                arrays.eachWithIndex { NDArray x, int a ->
                    NDArray m = x.getManager().create(mean[a], x.getShape())
                    try {
                        x.set(new NDIndex('...'), m)
                    } finally {
                        m.close()
                    }
                }
            }

            @Override
            double[] allReduceSum(double... values) {
                double[] mine = values.clone()
                (double[]) self.collective(rank, mine) { Object[] all ->
                    double[] out = new double[mine.length]
                    for (Object d : all) {
                        for (int i = 0; i < out.length; i++) {
                            out[i] += ((double[]) d)[i]
                        }
                    }
                    out
                }
            }

            @Override
            void barrier() {
                self.collective(rank, 0) { Object[] all -> 0 }
            }

            @Override
            void close() {
            }
        }
    }

    private Object collective(int rank, Object value, Closure reduce) {
        lock.lock()
        try {
            check()
            deposits[rank] = value
            arrived++
            long mine = round
            if (arrived == size) {
                result = reduce.call(deposits.clone())
                arrived = 0
                round++
                turn = next(-1)
            } else {
                turn = next(rank)
            }
            changed.signalAll()
            while (round == mine || turn != rank) {
                await()
            }
            result
        } finally {
            lock.unlock()
        }
    }

    private void awaitTurn(int rank) {
        lock.lock()
        try {
            while (turn != rank) {
                await()
            }
        } finally {
            lock.unlock()
        }
    }

    private void leave(int rank) {
        lock.lock()
        try {
            done[rank] = true
            turn = next(rank)
            changed.signalAll()
        } finally {
            lock.unlock()
        }
    }

    private void fail(Throwable t) {
        lock.lock()
        try {
            failure = failure ?: t
            changed.signalAll()
        } finally {
            lock.unlock()
        }
    }

    /** The next rank after {@code rank} that has not finished, wrapping around; -1 when none is left. */
    private int next(int rank) {
        for (int k = 1; k <= size; k++) {
            int r = (rank + k) % size
            if (r >= 0 && !done[r]) {
                return r
            }
        }
        -1
    }

    private void await() {
        check()
        if (!changed.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new DistributedException("a worker waited ${TIMEOUT_SECONDS} s in a collective: the workers'"
                    + " calls do not match")
        }
        check()
    }

    private void check() {
        if (failure != null) {
            throw new DistributedException("another worker failed: ${failure}")
        }
    }
}
