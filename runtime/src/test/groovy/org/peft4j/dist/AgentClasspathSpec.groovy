package org.peft4j.dist

import spock.lang.Specification
import spock.util.environment.RestoreSystemProperties

/** Where a worker finds its c10d agent. */
@RestoreSystemProperties
class AgentClasspathSpec extends Specification {

    def "the classpath the build or the launcher gives is used as it is"() {
        given:
        String jar = File.createTempFile('peft4j-c10d-', '.jar').with { deleteOnExit(); path }
        String lib = System.getProperty('java.io.tmpdir')
        System.setProperty(AgentClasspath.PROPERTY, "$jar${File.pathSeparator}$lib/*")

        expect:
        AgentClasspath.find() == "$jar${File.pathSeparator}$lib/*"
    }

    def "a classpath naming a missing jar is refused before any process starts, with the fix"() {
        given:
        System.setProperty(AgentClasspath.PROPERTY, '/nonexistent/peft4j-c10d-0.jar:/nonexistent/lib/*')

        when:
        GlooProcessGroup.start(new World(0, 2, 0, '127.0.0.1', 29500), new DistSettings(5, 5))

        then:
        DistributedException e = thrown()
        e.message.startsWith('peft4j.c10d.classpath names /nonexistent/peft4j-c10d-0.jar, which does not exist')
        e.message.contains("mvn -pl c10d package")
    }

    def "a source checkout's c10d/target is found without the property"() {
        given: 'these specs run from runtime/target/test-classes, beside which the build made c10d/target'
        System.clearProperty(AgentClasspath.PROPERTY)

        when:
        String found = AgentClasspath.find()

        then:
        found ==~ /.*\/c10d\/target\/peft4j-c10d-[^\/]+\.jar:.*\/c10d\/target\/lib\/\*/
    }
}
