package org.peft4j.dist

import spock.lang.Specification

/** LocalLauncher against real child JVMs (a probe that prints its environment), not against peft4j's training. */
class LocalLauncherSpec extends Specification {

    StringWriter errBytes = new StringWriter()
    PrintWriter err = new PrintWriter(errBytes, true)

    def "every worker gets torchrun's variables, one port, its share of the cores; the others' lines come prefixed"() {
        when:
        int code = new LocalLauncher(2, LauncherProbe.name, ['a', 'b'], err).run()
        String lines = errBytes.toString()
        int threads = Math.max(1, Runtime.runtime.availableProcessors().intdiv(2))

        then: 'both succeeded; rank 1 printed through the prefix (rank 0 writes to this JVM\'s own output)'
        code == 0
        lines.contains("[rank 1] rank 1 of 2 at 127.0.0.1:")
        lines.contains("local 1 threads ${threads} djl ${threads} args [a, b]")
    }

    def "a worker that fails stops the others within seconds, and its rank and code are named"() {
        when: 'rank 1 exits with 3 after half a second while rank 0 would sleep a minute'
        long start = System.nanoTime()
        int code = new LocalLauncher(2, LauncherProbe.name, ['exit:1:3', 'sleep'], err).run()
        double seconds = (System.nanoTime() - start) / 1e9

        then:
        code == 3
        errBytes.toString().contains('peft4j: worker rank 1 of 2 exited with code 3; stopping the other workers')
        seconds < 20
    }

    def "the arguments that start workers are refused when they make no sense"() {
        when:
        new LocalLauncher(0, LauncherProbe.name, [], err)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains('--nproc is 0')
    }
}
