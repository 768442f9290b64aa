package org.peft4j.cli

import org.peft4j.dsl.RecipeLoader
import org.peft4j.run.ModelInspector
import org.peft4j.run.RunConfig
import org.peft4j.peft.lora.LoraConfig
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Parameters
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/** Prints a model's module tree, and with a recipe which modules its lora { } block adapts and saves. */
@Command(name = 'inspect', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Print the module tree of a model (path, kind, weight shape, parameters). With --recipe, mark the',
                'modules its lora { } block targets and saves, and count the adapter parameters.'],
        footer = ['', 'Examples:', '  peft4j inspect minilm',
                '  peft4j inspect minilm --recipe recipes/quickstart.groovy',
                '  peft4j inspect ~/models/bert-base-uncased',
                '', 'Exit codes: 0 ok, 1 loading failed, 2 a usage or recipe mistake.'])
class InspectCommand implements Callable<Integer> {

    @Parameters(index = '0', paramLabel = 'MODEL', description = "'minilm' (embedded) or a Hugging Face model directory")
    String model

    @Option(names = '--recipe', paramLabel = 'RECIPE', description = 'a recipe whose lora { } targets to mark')
    Path recipe

    @Option(names = '--allow-code', description = 'trust the recipe: lift the sandbox that limits a recipe to the DSL')
    boolean allowCode

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        // the recipe first: a mistake in it is cheaper to report than loading the model
        RunConfig config = recipe == null ? null : RecipeLoader.loadRecipe(recipe, [:], allowCode).config()
        LoraConfig lora = config?.lora()
        String name = model
        if (!org.peft4j.models.ModelSpec.EMBEDDED.contains(model)) {
            name = Models.directory(model).toString()
        }
        PrintWriter out = spec.commandLine().out
        out.print(ModelInspector.inspect(name, lora, config?.model()?.head()).render())
        out.flush()
        0
    }
}
