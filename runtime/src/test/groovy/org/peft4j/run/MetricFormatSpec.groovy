package org.peft4j.run

import spock.lang.Specification

class MetricFormatSpec extends Specification {

    def "#metric = #value is written as #text"() {
        expect:
        MetricFormat.format(metric, value) == text

        where:
        metric     | value     | text
        'examples' | 300d      | '300'
        'tokens'   | 12345d    | '12345'
        'queries'  | 8d        | '8'
        'pairs'    | 1500d     | '1500'
        'accuracy' | 1d        | '1.0000'
        'accuracy' | 0.96d     | '0.9600'
        'loss'     | 0.114449d | '0.1144'
    }
}
