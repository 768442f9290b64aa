package org.peft4j.cli

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeException
import org.peft4j.dsl.RecipeLoader

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/**
 * {@code recipe.json} of a run directory: which recipe ran, copies of the files it starts {@code from},
 * the overrides and the sandbox mode, so {@code peft4j run <run directory>} can run it again from the copies.
 */
class RunRecord {

    static final String FILE = 'recipe.json'

    final Path runDir
    final Path recipe
    final Map<Path, Path> copies
    final Map<String, String> overrides
    final boolean allowCode

    private RunRecord(Path runDir, Path recipe, Map<Path, Path> copies, Map<String, String> overrides, boolean allowCode) {
        this.runDir = runDir
        this.recipe = recipe
        this.copies = copies
        this.overrides = overrides
        this.allowCode = allowCode
    }

    /** Copies the recipe's includes into {@code dir}/includes and writes recipe.json (the recipe itself FineTune copies). */
    static void write(Path dir, Recipe r, boolean allowCode, Path rerunOf) {
        Files.createDirectories(dir)
        Path main = r.files()[0]
        List<Map<String, String>> includes = []
        r.files().drop(1).eachWithIndex { Path f, int i ->
            Path copy = Path.of('includes', "${i + 1}-${f.fileName}")
            Files.createDirectories(dir.resolve('includes'))
            Files.copy(f, dir.resolve(copy), StandardCopyOption.REPLACE_EXISTING)
            includes << [source: f.toString(), copy: copy.toString()]
        }
        Map<String, Object> doc = [recipe     : main.toString(), copy: main.fileName.toString(), includes: includes,
                                   overrides  : r.overrides(), params: r.params(), allow_code: allowCode,
                                   rerun_of   : rerunOf?.toString()]
        Files.writeString(dir.resolve(FILE), JsonOutput.prettyPrint(JsonOutput.toJson(doc)) + '\n')
    }

    static RunRecord read(Path runDir) {
        Path file = runDir.resolve(FILE)
        if (!Files.isRegularFile(file)) {
            throw new RecipeException("${runDir}: a directory but not a run directory (no ${FILE}); give a recipe *.groovy or a run directory".toString())
        }
        Map doc = (Map) new JsonSlurper().parse(file.toFile())
        Path recipe = Path.of((String) doc.recipe)
        Map<Path, Path> copies = [(recipe): runDir.resolve((String) doc.copy)]
        ((List<Map>) doc.includes).each { Map i -> copies[Path.of((String) i.source)] = runDir.resolve((String) i.copy) }
        new RunRecord(runDir, recipe, copies, (Map<String, String>) doc.overrides, (boolean) doc.allow_code)
    }

    /** The recorded recipe with the recorded overrides, then {@code more} on top; data paths read as the first run read them. */
    Recipe load(Map<String, String> more, boolean allowCode, int timeLimit = RecipeLoader.TIME_LIMIT) {
        Map<String, String> all = new LinkedHashMap<>(overrides)
        all.putAll(more)
        // a shared run directory must not run code without the user saying so again
        RecipeLoader.loadRecipe(recipe, all, allowCode, copies, timeLimit)
    }

    /** The copy of the recipe itself, which FineTune copies again into the new run directory. */
    Path recipeCopy() {
        copies[recipe]
    }
}
