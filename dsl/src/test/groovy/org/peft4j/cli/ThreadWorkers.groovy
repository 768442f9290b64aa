package org.peft4j.cli

import ai.djl.ndarray.NDArray
import org.peft4j.dist.ProcessGroup
import org.peft4j.dist.World
import picocli.CommandLine

import java.util.concurrent.CyclicBarrier
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.Future
import java.util.concurrent.TimeUnit

/**
 * N workers as N threads of this JVM, with a ProcessGroup of their own (barrier and sums), so that
 * a command's sharding runs without c10d: each thread runs the command line as its rank.
 */
class ThreadWorkers {

    /** Runs {@code args} as the N workers of one job; returns each rank's Cli. */
    static List<Cli> run(int n, String... args) {
        CyclicBarrier barrier = new CyclicBarrier(n)
        double[][] slots = new double[n][]
        ExecutorService pool = Executors.newFixedThreadPool(n)
        try {
            List<Future<Cli>> ranks = (0..<n).collect { int rank ->
                pool.submit({ -> Cli.run(new Group(rank, n, barrier, slots), args) } as java.util.concurrent.Callable<Cli>)
            }
            ranks.collect { it.get(2, TimeUnit.MINUTES) }
        } finally {
            pool.shutdownNow()
        }
    }

    /** A picocli factory that hands {@code group} to every command that takes one. */
    static CommandLine.IFactory factory(ProcessGroup group) {
        { Class cls ->
            Object command = CommandLine.defaultFactory().create(cls)
            if (command.hasProperty('group')) {
                command.group = group
            }
            command
        } as CommandLine.IFactory
    }

    static class Group implements ProcessGroup {
        final World world
        final CyclicBarrier barrier
        final double[][] slots

        Group(int rank, int n, CyclicBarrier barrier, double[][] slots) {
            this.world = new World(rank, n, rank, '127.0.0.1', 29500)
            this.barrier = barrier
            this.slots = slots
        }

        @Override
        World world() {
            world
        }

        @Override
        void allReduceMean(List<NDArray> arrays) {
            throw new UnsupportedOperationException('no batch command averages arrays')
        }

        @Override
        double[] allReduceSum(double... values) {
            slots[world.rank()] = values.clone()
            barrier.await(1, TimeUnit.MINUTES)
            double[] sum = new double[values.length]
            for (double[] s : slots) {
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += s[i]
                }
            }
            // nobody writes the next sum's slots before everyone has read this one's
            barrier.await(1, TimeUnit.MINUTES)
            sum
        }

        @Override
        void barrier() {
            barrier.await(1, TimeUnit.MINUTES)
        }

        @Override
        void close() {
        }
    }
}
