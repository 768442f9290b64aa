package org.peft4j.dsl

import groovy.transform.CompileStatic
import org.peft4j.run.RunConfig

import java.nio.file.Path
import java.util.concurrent.TimeoutException

/**
 * Compiles and runs a recipe script and returns its validated {@link RunConfig}. Every mistake becomes a
 * {@link RecipeException} whose lines start with the recipe file (or the file it starts {@code from}) and line.
 * By default a recipe is sandboxed to the DSL ({@link RecipeSandbox}); {@code allowCode} lifts that.
 */
@CompileStatic
final class RecipeLoader {

    /**
     * Seconds that compiling a recipe, and running it, may each take by default. A recipe only records what to
     * run, in milliseconds; the limit is there so that a shared recipe cannot hang the host.
     */
    static final int TIME_LIMIT = 30

    private RecipeLoader() {
    }

    /** Loads {@code recipe}, applies {@code overrides} ({@code "train.epochs" -> "1"}), and validates. */
    static RunConfig load(Path recipe, Map<String, String> overrides = [:]) {
        loadRecipe(recipe, overrides, false).config()
    }

    /**
     * Loads a recipe with everything a host needs: output directory, params, the files it read.
     * {@code copies} maps a recipe file to the file to read instead (a rerun reads its run directory's copies,
     * while relative data paths still resolve against the original folders).
     */
    static Recipe loadRecipe(Path recipe, Map<String, String> overrides, boolean allowCode, Map<Path, Path> copies = [:],
                             int timeLimit = TIME_LIMIT) {
        String file = recipe.toString()
        Map<String, String> all = overrides ?: [:]
        Map<String, String> paramOverrides = all.findAll { String k, String v -> k.startsWith('params.') }
                .collectEntries { String k, String v -> [k.substring(7), v] } as Map<String, String>
        Loading loading = new Loading(allowCode, copies, paramOverrides, timeLimit)
        RecipeScript script = loading.open(recipe, file)
        Origins origins = loading.origins
        try {
            loading.run(script, recipe)
        } catch (RecipeException e) {
            throw e
        } catch (TimeoutException e) {
            Origins.Where where = origins.whereOf(e) ?: new Origins.Where(file, 1, null)
            throw new RecipeException(["${where.format(file)}: the recipe ran for more than ${timeLimit} s and was stopped".toString() +
                    ' here; a recipe only declares a run (training is not limited), so this is most likely a loop that never' +
                    ' ends; if it really needs longer, give --recipe-timeout SECONDS'], e)
        } catch (Exception e) {
            Origins.Where where = origins.whereOf(e) ?: new Origins.Where(file, 1, null)
            throw new RecipeException(["${where.format(file)}: ${CompileErrors.describe(e)}".toString()], e)
        }
        List<String> refused = Overrides.apply(script, all.findAll { String k, String v -> !k.startsWith('params.') })
        paramOverrides.keySet().findAll { String name -> !loading.params.has(name) }.each { String name ->
            refused << "--set params.${name}=${paramOverrides[name]}: the recipe declares no param '${name}';".toString() +
                    " declared: ${loading.params.asMap().keySet().join(', ') ?: 'none (params { name default })'}"
        }
        if (refused) {
            throw new RecipeException(refused.collect { "${file}: ${it}".toString() })
        }
        String defaultName = recipe.fileName.toString().replaceFirst(/\.groovy$/, '')
        // a block without targets gets the model family's, so that validation and inspect see what will run
        RunConfig config = script.build(defaultName).withDefaultTargets()
        throwIfAny(origins, file, script.problems() + script.taskProblems() + config.problems())
        new Recipe(config, script.outputDir(), loading.params.asMap(), List.copyOf(loading.files), all, origins, file)
    }

    /** The DSL's own problems and the validation messages, each at the recipe line that set its field, sorted by line. */
    private static void throwIfAny(Origins origins, String file, List<String> messages) {
        List<Origins.Problem> problems = origins.problems() + messages.collect { origins.locate(it) }
        if (problems) {
            List<String> lines = problems.toSorted { Origins.Problem p -> p.where().line() }.collect { it.format(file) }.unique()
            throw new RecipeException(lines)
        }
    }
}
