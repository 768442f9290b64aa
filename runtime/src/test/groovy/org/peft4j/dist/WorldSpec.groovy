package org.peft4j.dist

import spock.lang.Specification

/** torchrun's environment contract, as World reads it. */
class WorldSpec extends Specification {

    def "torchrun's variables describe the worker"() {
        when:
        World world = World.fromEnvironment([RANK: '1', WORLD_SIZE: '4', LOCAL_RANK: '3', MASTER_ADDR: ' 10.1.2.3 ',
                                             MASTER_PORT: '29500'])

        then:
        world == new World(1, 4, 3, '10.1.2.3', 29500)
        world.distributed()
        !world.main()
    }

    def "without LOCAL_RANK the local rank is the rank"() {
        expect:
        World.fromEnvironment([RANK: '2', WORLD_SIZE: '3', MASTER_ADDR: 'h', MASTER_PORT: '1']).localRank() == 2
    }

    def "no WORLD_SIZE, or WORLD_SIZE 1, is one process alone"() {
        expect:
        World.fromEnvironment(env) == World.single()
        !World.fromEnvironment(env).distributed()

        where:
        env << [[:], [WORLD_SIZE: '1', RANK: '0'], [WORLD_SIZE: ' ']]
    }

    def "a bad or missing variable is named with its value: #env"() {
        when:
        World.fromEnvironment(env)

        then:
        DistributedException e = thrown()
        e.message.contains(named)

        where:
        env                                                                     || named
        [WORLD_SIZE: 'two']                                                     || "WORLD_SIZE is 'two'"
        [WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1']                   || 'RANK is not set'
        [WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '1']                          || 'MASTER_ADDR is not set'
        [WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'h']                          || 'MASTER_PORT is not set'
        [WORLD_SIZE: '2', RANK: '2', MASTER_ADDR: 'h', MASTER_PORT: '1']        || 'RANK is 2 but WORLD_SIZE is 2'
        [WORLD_SIZE: '2', RANK: '-1', MASTER_ADDR: 'h', MASTER_PORT: '1']       || 'RANK is -1'
        [WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'h', MASTER_PORT: '70000']    || 'MASTER_PORT is 70000'
        [WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'h', MASTER_PORT: 'x']        || "MASTER_PORT is 'x'"
        [WORLD_SIZE: '2', RANK: '0', LOCAL_RANK: '-3', MASTER_ADDR: 'h', MASTER_PORT: '1'] || 'LOCAL_RANK is -3'
        [WORLD_SIZE: '0']                                                       || 'WORLD_SIZE is 0'
    }

    def "the timeouts come from a system property, else the environment, else the defaults"() {
        expect:
        DistSettings.from(props, env) == new DistSettings(connect, collective)

        where:
        props                                  | env                                    || connect | collective
        [:]                                    | [:]                                    || 60      | 1800
        [:]                                    | [PEFT4J_DIST_TIMEOUT: '5']             || 5       | 1800
        ['peft4j.dist.timeout': '7']           | [PEFT4J_DIST_TIMEOUT: '5']             || 7       | 1800
        ['peft4j.dist.collectiveTimeout': '9'] | [PEFT4J_DIST_COLLECTIVE_TIMEOUT: '8']  || 60      | 9
    }

    def "a bad timeout is named with its value"() {
        when:
        DistSettings.from([:], [PEFT4J_DIST_TIMEOUT: value])

        then:
        DistributedException e = thrown()
        e.message == "PEFT4J_DIST_TIMEOUT is '" + value + "'; it must be a whole number of seconds, at least 1"

        where:
        value << ['0', 'ten', '1.5']
    }
}
