package org.peft4j.repl

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.module.SimpleModule
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer
import org.peft4j.dsl.Recipe
import org.peft4j.dsl.RecipeLoader
import org.peft4j.run.RunConfig

import java.nio.file.Path

/**
 * A recipe held by the REPL: the file it came from, the overrides set on it since, and the sandbox choice. Every
 * {@link #set} loads the file again with the overrides, exactly as {@code peft4j run --set} does, so a value is
 * typed, checked and refused with the same messages. Prints as its resolved configuration.
 */
class ReplRecipe {

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new SimpleModule().addSerializer(Path, ToStringSerializer.instance))

    /** The recipe file as the user named it (an inline recipe: a name in the current folder). */
    final Path file
    /** The file actually read: {@link #file}, or the text of an inline recipe. */
    final Path source
    final boolean allowCode
    final int timeLimit
    private final Map<String, String> overrides = new LinkedHashMap<>()
    private Recipe loaded

    ReplRecipe(Path file, Path source, boolean allowCode, int timeLimit) {
        this.file = file
        this.source = source
        this.allowCode = allowCode
        this.timeLimit = timeLimit
        loaded = load(overrides)
    }

    /**
     * Overrides one value, as {@code --set key=value} does: {@code recipe.set 'lora.r', 16}. The recipe is loaded
     * again with it; a refused value leaves the recipe as it was. Returns what changed in the resolved
     * configuration, e.g. {@code lora.r: 8 → 16}.
     */
    String set(String key, Object value) {
        set([(key): value])
    }

    /** Several overrides at once: {@code recipe.set 'lora.r': 16, 'train.maxSteps': 40}. */
    String set(Map<String, Object> values) {
        Map<String, String> next = new LinkedHashMap<>(overrides)
        values.each { k, v ->
            next.remove(k)
            next[k as String] = String.valueOf(v)
        }
        Map<String, String> before = flatten('', JSON.valueToTree(loaded.config()))
        loaded = load(next)
        overrides.clear()
        overrides.putAll(next)
        Map<String, String> after = flatten('', JSON.valueToTree(loaded.config()))
        List<String> changed = (before.keySet() + after.keySet()).unique().findAll { before[it] != after[it] }
                .collect { "${it}: ${before[it] ?: '—'} → ${after[it] ?: '—'}".toString() }
        changed ? changed.join('\n') : "${values.keySet().join(', ')}: unchanged"
    }

    private Recipe load(Map<String, String> with) {
        Map<Path, Path> copies = source == file ? [:] : [(file.toAbsolutePath().normalize()): source]
        RecipeLoader.loadRecipe(file, with, allowCode, copies, timeLimit)
    }

    /** The loaded recipe (validated configuration, output dir, params, overrides). */
    Recipe getRecipe() {
        loaded
    }

    RunConfig getConfig() {
        loaded.config()
    }

    String getName() {
        loaded.name()
    }

    Map<String, String> getOverrides() {
        Collections.unmodifiableMap(overrides)
    }

    /** The resolved configuration as "key = value" lines, keys as {@code set} and {@code --set} name them. */
    String describe() {
        describe(loaded)
    }

    /** A loaded recipe's resolved configuration, with the overrides it was loaded with. */
    static String describe(Recipe r) {
        StringBuilder sb = new StringBuilder("recipe ${r.name()} (${r.shownAs()})")
        if (r.overrides()) {
            sb << ', set: ' << r.overrides().collect { k, v -> "${k}=${v}" }.join(' ')
        }
        sb << '\n'
        flatten('', JSON.valueToTree(r.config())).each { k, v -> sb << "  ${k} = ${v}\n" }
        sb.toString().stripTrailing()
    }

    private static Map<String, String> flatten(String prefix, JsonNode n) {
        Map<String, String> out = new LinkedHashMap<>()
        if (n.isObject()) {
            n.fields().each { Map.Entry<String, JsonNode> e ->
                if (!e.value.isNull()) {
                    out.putAll(flatten(prefix ? "${prefix}.${e.key}" : e.key, e.value))
                }
            }
        } else if (n.isArray() && n.every { !it.isContainerNode() }) {
            out[prefix] = n.collect { it.isTextual() ? it.asText() : it.toString() }.join(', ')
        } else if (!n.isMissingNode()) {
            out[prefix] = n.isTextual() ? n.asText() : n.toString()
        }
        out
    }

    @Override
    String toString() {
        describe()
    }
}
