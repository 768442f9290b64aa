package org.peft4j.train

import spock.lang.Specification

class LrScheduleSpec extends Specification {

    def "the learning rate warms up linearly, then follows its shape to the last step"() {
        given:
        def schedule = new LrSchedule(new ScheduleConfig(kind, 0.1), 1.0, 100)

        expect: 'warmup is 10 steps; step s (0-based) during warmup gets (s + 1) / 10'
        Math.abs(schedule.lr(step) - expected) < 1e-9

        where:
        kind                          | step || expected
        ScheduleConfig.Kind.LINEAR    | 0    || 0.1
        ScheduleConfig.Kind.LINEAR    | 9    || 1.0
        ScheduleConfig.Kind.LINEAR    | 10   || 1.0
        ScheduleConfig.Kind.LINEAR    | 55   || 0.5
        ScheduleConfig.Kind.LINEAR    | 100  || 0.0
        ScheduleConfig.Kind.COSINE    | 55   || 0.5
        ScheduleConfig.Kind.COSINE    | 32.5 as int || 0.5 * (1 + Math.cos(Math.PI * 22 / 90))
        ScheduleConfig.Kind.CONSTANT  | 99   || 1.0
    }

    def "a warmup of 1 or more is a step count"() {
        expect:
        new ScheduleConfig(ScheduleConfig.Kind.LINEAR, 5).warmupSteps(1000) == 5
        new ScheduleConfig(ScheduleConfig.Kind.LINEAR, 0.06).warmupSteps(1000) == 60
    }
}
