package org.peft4j.cli

import spock.lang.Specification

/** `peft4j run --nproc N`: what the workers are started with, and what is refused before any starts. */
class RunNprocSpec extends Specification {

    def "the workers get the command's arguments without --nproc, in either spelling"() {
        expect:
        Workers.withoutNproc(args) == workers

        where:
        args                                                     | workers
        ['r.groovy', '--nproc', '2', '--out', 'x']               | ['r.groovy', '--out', 'x']
        ['r.groovy', '--nproc=4', '--set', 'train.epochs=1']     | ['r.groovy', '--set', 'train.epochs=1']
        ['r.groovy', '--quiet']                                  | ['r.groovy', '--quiet']
    }

    def "--nproc below 1, or with --preflight, is a usage mistake (exit 2) naming the option"() {
        when:
        Cli cli = Cli.run(*(['run', '../recipes/quickstart.groovy'] + args))

        then:
        cli.code == 2
        cli.err.toString().contains(message)

        where:
        args                            | message
        ['--nproc', '0']                | '--nproc is 0; it must be at least 1'
        ['--nproc', '2', '--preflight'] | '--preflight checks one process; drop --nproc'
    }
}
