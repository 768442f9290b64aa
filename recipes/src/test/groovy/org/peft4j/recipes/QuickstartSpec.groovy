package org.peft4j.recipes

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class QuickstartSpec extends Specification {

    @TempDir
    Path dir

    def "quickstart passes check with query and value adapted in all 6 layers and under 2% of the parameters training"() {
        when:
        Peft4j p = Peft4j.run(['check', 'quickstart.groovy', '--quiet'])
        String text = p.out.toString()
        def share = (text =~ /parameters [\d,]+ trainable of [\d,]+ \(([\d.]+)%\)/)

        then:
        p.code == 0
        text.contains('adapted    12 modules')
        (0..5).every { text.contains("encoder.layer.${it}.attention.self.query") && text.contains("encoder.layer.${it}.attention.self.value") }
        share.find()
        Double.parseDouble(share.group(1)) < 2.0
    }

    def "a copy of quickstart with a typo fails with its file and line, exit code 2, before its data is looked at"() {
        given:
        Path copy = dir.resolve('quickstart-typo.groovy')
        List<String> lines = Files.readAllLines(Path.of('quickstart.groovy'))
        int line = lines.indexOf('    batchSize 16') + 1
        Files.writeString(copy, Files.readString(Path.of('quickstart.groovy')).replace('    batchSize 16', '    batchSise 16'))

        when:
        Peft4j p = Peft4j.run(['check', copy.toString()])

        then:
        p.code == 2
        line > 0
        p.err.toString().startsWith("${copy}:${line}: unknown option 'batchSise' in train { }; did you mean 'batchSize'?")
    }
}
