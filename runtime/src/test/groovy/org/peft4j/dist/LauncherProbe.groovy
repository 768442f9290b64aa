package org.peft4j.dist

/**
 * A worker for {@link LocalLauncherSpec}: prints what the launcher gave it, then does what its arguments say
 * for its rank: {@code exit:RANK:CODE} exits with CODE after half a second, {@code sleep} waits a minute.
 */
class LauncherProbe {

    static void main(String[] args) {
        String rank = System.getenv('RANK')
        println("rank ${rank} of ${System.getenv('WORLD_SIZE')} at ${System.getenv('MASTER_ADDR')}:${System.getenv('MASTER_PORT')}"
                + " local ${System.getenv('LOCAL_RANK')} threads ${System.getenv('OMP_NUM_THREADS')}"
                + " djl ${System.getProperty('ai.djl.pytorch.num_threads')} args ${args.toList()}")
        System.out.flush()
        for (String a : args) {
            List<String> p = a.split(':').toList()
            if (p[0] == 'exit' && p[1] == rank) {
                Thread.sleep(500)
                System.exit(p[2] as int)
            }
            if (p[0] == 'sleep') {
                Thread.sleep(60_000)
            }
        }
    }
}
