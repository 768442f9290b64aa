package org.peft4j.run

import spock.lang.Specification

class PlanSpec extends Specification {

    def "data statistics print as a table: a row per split, a column per statistic, labels headed by their name"() {
        given:
        Map<String, Map<String, Long>> splits = [
                train: [examples: 2000L, skipped: 0L, truncated: 123L, tokens: 150321L, longest: 128L, 'label.ham': 1600L, 'label.spam': 400L],
                valid: [examples: 300L, skipped: 0L, truncated: 20L, tokens: 22001L, longest: 128L, 'label.ham': 208L, 'label.spam': 92L]]
        Plan plan = new Plan('m', [], [], 0, 0, splits, 1, 1, null)

        expect:
        plan.dataTable() == '''\
data       split  examples  skipped  truncated  tokens  longest   ham  spam
           train      2000        0        123  150321      128  1600   400
           valid       300        0         20   22001      128   208    92
'''
        plan.describe().contains(plan.dataTable())
        !plan.describe().contains('{examples=')
    }

    def "a statistic one split lacks is left blank"() {
        given:
        Plan plan = new Plan('m', [], [], 0, 0, [train: [examples: 10L, columns: 2L], queries: [examples: 4L]], 1, 1, null)

        expect:
        plan.dataTable() == '''\
data       split    examples  columns
           train          10        2
           queries         4
'''
    }
}
