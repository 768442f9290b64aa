package org.peft4j.peft.adalora

import org.peft4j.config.ConfigException
import spock.lang.Specification

class BudgetScheduleSpec extends Specification {

    // n = 3 matrices, initR 12, targetR 8: b0 = 36, b_T = 24; T = 100, tinit = 10, tfinal = 20 (70 budgeting steps)
    static AdaLoraConfig config(int deltaT = 5) {
        AdaLoraConfig.builder().initR(12).targetR(8).tinit(10).tfinal(20).deltaT(deltaT).totalSteps(100)
                .targets(['fc1']).build()
    }

    def "the budget at step #t is #expected, as Eq. 12 gives it (truncated like PEFT's int())"() {
        given:
        def schedule = new BudgetSchedule(config(), 3)

        expect:
        schedule.budget(t) == expected
        schedule.budget(t) == formula(t)

        where:
        t   || expected
        0   || 36          // warm-up: b0
        9   || 36
        10  || 36          // t = tinit: the cubic starts at b0
        11  || 35          // 24 + 12 (69/70)³ = 35.49
        45  || 25          // midway: 24 + 12 · 0.5³ = 25.5
        79  || 24          // 24 + 12 (1/70)³
        80  || 24          // t = T − tfinal: b_T
        100 || 24          // t = T
    }

    static int formula(int t) {
        if (t < 10) return 36
        if (t >= 80) return 24
        double c = 1 - (t - 10) / 70.0
        return (int) Math.floor(24 + 12 * c * c * c)
    }

    def "masking is due every deltaT steps inside the budgeting phase and once at T − tfinal, then never"() {
        given:
        def schedule = new BudgetSchedule(config(5), 3)

        expect:
        schedule.maskDue(t) == due

        where:
        t   || due
        5   || false   // warm-up
        10  || false   // t = tinit: b(t) = b0, nothing to prune
        15  || true
        16  || false
        75  || true
        80  || true    // T − tfinal: the final budget, then the mask is frozen
        85  || false
        100 || false
    }

    def "tinit + tfinal that leave no budgeting phase are refused with the values and what to change"() {
        when:
        AdaLoraConfig.builder().tinit(60).tfinal(40).totalSteps(100).targets(['fc1']).build()

        then:
        def e = thrown(ConfigException)
        e.message.contains('adalora.tinit + adalora.tfinal = 60 + 40 = 100 must be < totalSteps = 100')
        e.message.contains('lower tinit or tfinal')
    }

    def "every config problem is reported together, each with field, value and fix"() {
        when:
        AdaLoraConfig.builder().initR(4).targetR(6).beta1(1.0).deltaT(0).targetRegex('(').build()

        then:
        def e = thrown(ConfigException)
        e.problems().size() == 4
        e.problems().any { it.startsWith('adalora.targetR = 6 must be in [1, initR = 4]') }
        e.problems().any { it.startsWith('adalora.beta1 = 1.0 must be in (0, 1)') }
        e.problems().any { it.startsWith('adalora.deltaT = 0 must be >= 1') }
        e.problems().any { it.startsWith("adalora.targetRegex '(' does not compile") }
    }

    def "a config without targets takes the defaults it is given; one that names targets keeps them"() {
        given:
        def none = AdaLoraConfig.builder().build()
        def named = AdaLoraConfig.builder().targets(['fc1']).build()

        expect:
        none.withDefaultTargets(['query', 'key', 'value', 'dense']).targets() == ['query', 'key', 'value', 'dense']
        named.withDefaultTargets(['query']).targets() == ['fc1']
        none.withDefaultTargets(['query']).initR() == none.initR()
    }

    def "injecting a config that names no targets says what to write"() {
        when:
        org.peft4j.peft.TargetMatcher.match([:], AdaLoraConfig.builder().build().targeting(), 'adalora')

        then:
        def e = thrown(ConfigException)
        e.problems() == ["adalora.target is missing: name the modules to adapt, e.g. target 'query', 'value'; a recipe"
                                 + " gets its model family's defaults, a config built in code gets them from"
                                 + " withDefaultTargets(family.adaLoraTargets())"]
    }

    def "totalSteps 0 is resolved from the run and validated then"() {
        given:
        def c = AdaLoraConfig.builder().tinit(10).tfinal(20).targets(['fc1']).build()

        expect:
        c.totalSteps() == 0
        c.withTotalSteps(100).totalSteps() == 100

        when:
        c.withTotalSteps(30)

        then:
        thrown(ConfigException)
    }

    def "left out, tinit, tfinal and deltaT become 10 %, 20 % and a twentieth of the budgeting phase of T = #total"() {
        given:
        def c = AdaLoraConfig.builder().targets(['fc1']).build()

        expect: 'they wait for T'
        [c.tinit(), c.tfinal(), c.deltaT()] == [AdaLoraConfig.AUTO] * 3

        when:
        def resolved = c.withTotalSteps(total)

        then:
        [resolved.tinit(), resolved.tfinal(), resolved.deltaT()] == [tinit, tfinal, deltaT]
        new BudgetSchedule(resolved, 2).budget(total) == 16

        where:
        total || tinit | tfinal | deltaT
        2     || 0     | 0      | 1
        104   || 10    | 20     | 3
        1000  || 100   | 200    | 35
    }
}
