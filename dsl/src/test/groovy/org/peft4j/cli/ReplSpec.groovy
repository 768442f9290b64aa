package org.peft4j.cli

import spock.lang.Specification

class ReplSpec extends Specification {

    private static String drive(String script) {
        InputStream stdin = System.in
        try {
            System.in = new ByteArrayInputStream(script.getBytes('UTF-8'))
            Cli c = Cli.run('repl')
            assert c.code == 0
            c.out.toString()
        } finally {
            System.in = stdin
        }
    }

    def "a script drives the REPL through stdin: variables persist, blocks span lines, errors do not end it"() {
        when:
        String out = drive('''\
x = 20
def y = 22
x + y
add = { a, b ->
    a + b
}
add(1, 2)
nope()
:help
:vars
:quit
never(evaluated)
''')

        then:
        List<String> lines = out.readLines()
        lines.contains('===> 42')
        lines.contains('===> 3')
        lines.any { it.startsWith('error: ') && it.contains('nope') }
        out.contains(':vars            the variables kept so far')
        lines.contains('x = 20')
        !out.contains('never')
    }

    def "a user loads the embedded model, applies LoRA, counts parameters and plans a recipe"() {
        when:
        String out = drive('''\
model = BertForSequenceClassification.fromPretrained(EmbeddedModels.resolve('minilm'), 2, 42)
total = model.parameterCount()
lora = LoraInjector.inject(model, LoraConfig.of(8, 16, 0.05, ['query', 'value'], ['classifier']), Backend.get().manager())
lora.adaptedPaths().size()
model.trainableParameterCount() < total * 0.02
plan = FineTune.plan(RecipeLoader.load(Path.of('../recipes/quickstart.groovy'), ['data.limit': '16']), TrainingListener.NONE)
plan.adaptedModules().size()
''')

        then:
        List<String> lines = out.readLines()
        lines.count('===> 12') == 2
        lines.contains('===> true')
        !lines.any { it.startsWith('error') }
    }
}
