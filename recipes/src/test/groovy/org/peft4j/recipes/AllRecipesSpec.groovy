package org.peft4j.recipes

import org.peft4j.data.TextFormat
import org.peft4j.dsl.RecipeException
import groovy.json.JsonSlurper
import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeLoader
import org.peft4j.data.DataConfig
import org.peft4j.models.TaskType
import org.peft4j.run.RunConfig
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.util.stream.Collectors

/** Every recipe in this folder, at any depth, passes check and runs end to end when shortened. */
class AllRecipesSpec extends Specification {

    /** Short enough for CI: a few seconds of training each. */
    static final List<String> SHORT = ['--set', 'data.limit=32', '--set', 'train.maxSteps=2', '--set', 'data.maxLength=32',
                                       '--set', 'train.evalBatchSize=64', '--no-eval-before', '--quiet']

    static List<Path> recipes() {
        Path root = Path.of('').toAbsolutePath()
        Files.walk(root).withCloseable { stream ->
            stream.filter { Path p -> p.toString().endsWith('.groovy') && Files.isRegularFile(p) }
                    .filter { Path p -> !(root.relativize(p).getName(0).toString() in ['data', 'src', 'target', 'runs']) }
                    .map { Path p -> root.relativize(p) }
                    .sorted()
                    .collect(Collectors.toList())
        }
    }

    @Shared @TempDir
    Path out

    /**
     * A recipe whose model directory is not here (the user's own checkpoint, or one another recipe trains) must say
     * so with the advice of its {@code ifMissing}; its error message, else null. A missing directory without advice
     * is a broken recipe and fails below like any other mistake.
     */
    static String absentModel(Path recipe) {
        try {
            RecipeLoader.loadRecipe(recipe, [:], false)
            null
        } catch (RecipeException e) {
            boolean advised = e.message.contains("model.path '") && e.message.contains("' does not exist; ") &&
                    !e.message.contains('it must be a Hugging Face model directory')
            advised ? e.message : null
        }
    }

    /**
     * The data block limits only the training split, so valid and test are cut here: the first 32 lines of each,
     * written next to the run and passed as overrides.
     */
    List<String> shortSplits(Path recipe) {
        if (absentModel(recipe) != null) {
            return []
        }
        Recipe loaded = RecipeLoader.loadRecipe(recipe, [:], false)
        RunConfig config = loaded.config()
        if (config.task() == TaskType.EMBEDDING) {
            return shortRetrieval(recipe, config.data())
        }
        List<String> args = []
        for (String split : ['valid', 'test']) {
            Path file = split == 'valid' ? config.data().valid() : config.data().test()
            if (file != null) {
                Path cut = out.resolve("${recipe.toString().replace('/', '_')}-${split}.jsonl")
                Files.write(cut, Files.readAllLines(file).take(32))
                args += ['--set', "data.${split}=${cut}".toString()]
            }
        }
        args
    }

    /** An embedding recipe's retrieval evaluation cut to the first 32 documents and the queries answered among them. */
    List<String> shortRetrieval(Path recipe, DataConfig data) {
        if (data.corpus() == null) {
            return []
        }
        String stem = recipe.toString().replace('/', '_')
        List<String> docs = Files.readAllLines(data.corpus()).findAll { it.trim() }.take(32)
        Set<String> ids = docs.collect { (new JsonSlurper().parseText(it) as Map).id as String } as Set
        List<String> queries = Files.readAllLines(data.queries()).findAll { String line ->
            def relevant = line.trim() ? (new JsonSlurper().parseText(line) as Map).relevant : null
            relevant != null && ids.containsAll(relevant instanceof Map ? ((Map) relevant).keySet() : relevant as Collection)
        }
        Path corpus = Files.write(out.resolve("${stem}-corpus.jsonl"), docs)
        Path cut = Files.write(out.resolve("${stem}-queries.jsonl"), queries)
        ['--set', "data.queries=${cut}".toString(), '--set', "data.corpus=${corpus}".toString()]
    }

    /**
     * Per-recipe overrides a shortened run needs: AdaLoRA's warm-up and final phases (tinit + tfinal) must leave a
     * budgeting phase inside the run's steps, and 32 examples give only 2; the budget then shrinks over those 2.
     */
    static List<String> shortAdapter(Path recipe) {
        absentModel(recipe) == null && RecipeLoader.loadRecipe(recipe, [:], false).config()?.adalora() != null
                ? ['--set', 'adalora.tinit=0', '--set', 'adalora.tfinal=0', '--set', 'adalora.deltaT=1']
                : []
    }

    /**
     * Instructions and chats carry a prompt before each answer; the short maxLength of SHORT would cut every answer
     * away (and so every example), so they keep the recipe's own.
     */
    static List<String> shortTask(Path recipe) {
        if (absentModel(recipe) != null) {
            return []
        }
        RunConfig config = RecipeLoader.loadRecipe(recipe, [:], false).config()
        config?.causalLm() != null && config.causalLm().format() != TextFormat.TEXTS
                ? ['--set', "data.maxLength=${config.data().maxLength()}".toString()] : []
    }

    def "there are recipes to walk"() {
        expect:
        recipes().containsAll(['quickstart.groovy', 'spam-adalora.groovy', 'lora-options/rslora.groovy',
                               'lora-options/dora.groovy', 'lora-options/pissa.groovy',
                               'lora-options/all-linear-rank-pattern.groovy', 'decoder/mail-llama-scratch.groovy',
                               'decoder/mail-llama-lora.groovy', 'decoder/qwen-chat-lora.groovy'].collect { Path.of(it) })
    }

    def "#recipe passes check"() {
        when:
        String absent = absentModel(recipe)
        Peft4j p = Peft4j.run(['check', recipe.toString(), '--set', 'data.limit=32', '--quiet'] + shortSplits(recipe) + shortAdapter(recipe) + shortTask(recipe))

        then: "it is checked, or it names its absent model directory and how to get it (exit 2)"
        absent == null ? p.err.toString() == '' && p.code == 0 && p.out.toString().contains('adapted ')
                : p.code == 2 && p.err.toString().contains('does not exist; ')

        where:
        recipe << recipes()
    }

    def "#recipe runs shortened and writes a summary"() {
        given:
        Path dir = out.resolve(recipe.toString().replace('/', '_').replace('.groovy', ''))

        String absent = absentModel(recipe)

        when:
        Peft4j p = Peft4j.run(['run', recipe.toString(), '--out', dir.toString()] + SHORT + shortSplits(recipe) + shortAdapter(recipe) + shortTask(recipe))

        then: "it runs, or it stops before training with the advice of its absent model directory"
        absent == null ? p.err.toString() == '' && p.code == 0 && Files.exists(dir.resolve('summary.json'))
                : p.code == 2 && p.err.toString().contains('does not exist; ') && !Files.exists(dir.resolve('summary.json'))

        where:
        recipe << recipes()
    }
}
