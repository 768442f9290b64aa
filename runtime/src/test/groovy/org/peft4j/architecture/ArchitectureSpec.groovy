package org.peft4j.architecture

import com.tngtech.archunit.core.domain.JavaClasses
import com.tngtech.archunit.core.importer.ClassFileImporter
import com.tngtech.archunit.core.importer.ImportOption
import com.tngtech.archunit.lang.ArchRule
import spock.lang.Shared
import spock.lang.Specification

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices

/**
 * The runtime's shape, as rules that fail the build: layers point one way, a model family builds
 * only on the shared blocks, one package talks to the engine, and the runtime knows nothing of Groovy.
 */
class ArchitectureSpec extends Specification {

    /** DJL's engine packages, and bytedeco's binding of the same libtorch (tensor/TorchBridge). */
    static final String[] ENGINE = ['ai.djl.pytorch..', 'ai.djl.engine..', 'ai.djl.nn..', 'ai.djl.training..', 'org.bytedeco..']

    @Shared
    JavaClasses runtime = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages('org.peft4j')

    def "no two packages of the runtime depend on each other, directly or through others"() {
        expect:
        obeyed slices().matching('org.peft4j.(**)').should().beFreeOfCycles()
    }

    def "only org.peft4j.tensor talks to the engine"() {
        expect:
        obeyed noClasses().that().resideOutsideOfPackage('org.peft4j.tensor..')
                .should().dependOnClassesThat().resideInAnyPackage(ENGINE)
    }

    def "the runtime knows nothing of Groovy"() {
        expect:
        obeyed noClasses().should().dependOnClassesThat()
                .resideInAnyPackage('groovy..', 'org.codehaus.groovy..', 'org.apache.groovy..')
    }

    def "LoRA never depends on AdaLoRA"() {
        expect:
        obeyed noClasses().that().resideInAPackage('org.peft4j.peft.lora..')
                .should().dependOnClassesThat().resideInAPackage('org.peft4j.peft.adalora..')
    }

    def "#layer depends on nothing above it"() {
        expect:
        obeyed noClasses().that().resideInAPackage(layer)
                .should().dependOnClassesThat().resideInAnyPackage(above as String[])
                .allowEmptyShould(true)

        where:
        layer                  | above
        'org.peft4j.tensor..'  | ['org.peft4j.dist..', 'org.peft4j.nn..', 'org.peft4j.io..', 'org.peft4j.models..', 'org.peft4j.peft..',
                                  'org.peft4j.export..', 'org.peft4j.train..', 'org.peft4j.data..', 'org.peft4j.run..']
        'org.peft4j.nn..'      | ['org.peft4j.io..', 'org.peft4j.models..', 'org.peft4j.peft..', 'org.peft4j.export..',
                                  'org.peft4j.train..', 'org.peft4j.data..', 'org.peft4j.run..']
        'org.peft4j.io..'      | ['org.peft4j.models..', 'org.peft4j.peft..', 'org.peft4j.export..', 'org.peft4j.train..',
                                  'org.peft4j.run..']
        'org.peft4j.models..'  | ['org.peft4j.peft..', 'org.peft4j.export..', 'org.peft4j.train..', 'org.peft4j.run..']
        'org.peft4j.peft..'    | ['org.peft4j.export..', 'org.peft4j.run..']
        'org.peft4j.export..'  | ['org.peft4j.run..']
        'org.peft4j.train..'   | ['org.peft4j.peft..', 'org.peft4j.export..', 'org.peft4j.data..', 'org.peft4j.run..']
        'org.peft4j.data..'    | ['org.peft4j.peft..', 'org.peft4j.export..', 'org.peft4j.run..']
    }

    def "org.peft4j.dist is a low layer: it knows only the JDK and DJL's NDArray and Device"() {
        expect:
        obeyed classes().that().resideInAPackage('org.peft4j.dist..')
                .should().onlyDependOnClassesThat().resideInAnyPackage('org.peft4j.dist..', 'java..',
                'ai.djl.ndarray..', 'ai.djl')
    }

    def "the #family family builds only on models.core, nn, tensor and io"() {
        expect:
        obeyed classes().that().resideInAPackage(family)
                .should().onlyDependOnClassesThat().resideInAnyPackage(family, 'org.peft4j.models.core..',
                'org.peft4j.nn..', 'org.peft4j.tensor..', 'org.peft4j.io..',
                'java..', 'ai.djl', 'ai.djl.ndarray..', 'com.fasterxml.jackson..')

        where:
        family << familyPackages()
    }

    /** Every package directly below org.peft4j.models but core: one per family. */
    private List<String> familyPackages() {
        runtime.collect { it.packageName }
                .findAll { it ==~ /org\.peft4j\.models\.[a-z0-9]+/ && it != 'org.peft4j.models.core' }
                .unique().sort()
    }

    private boolean obeyed(ArchRule rule) {
        rule.check(runtime)
        true
    }
}
