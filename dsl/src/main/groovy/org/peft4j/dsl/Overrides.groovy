package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import org.peft4j.train.OptimizerConfig
import org.peft4j.train.ScheduleConfig

import java.lang.reflect.Method
import java.nio.file.Path
import java.util.regex.Pattern
import java.util.regex.PatternSyntaxException

/**
 * {@code --set key=value}: applied after the recipe ran, through the same option methods the recipe calls
 * ({@code train.epochs=1} calls {@code epochs 1} in the train block), so an override is typed like the recipe.
 */
@CompileStatic
final class Overrides {

    private static final Map<String, Class<?>> BLOCKS = [model: ModelContext, lora: LoraContext, adalora: AdaLoraContext, data: DataContext,
                                                        train: TrainContext, output: OutputContext] as Map<String, Class<?>>
    private static final Map<String, Class<? extends Record>> VALUES = [optimizer: OptimizerConfig,
                                                                        schedule : ScheduleConfig] as Map<String, Class<? extends Record>>

    private Overrides() {
    }

    /** Every key that {@code --set} accepts, with the type of its value. */
    static Map<String, Class<?>> keys() {
        Map<String, Class<?>> keys = [:]
        option(RecipeScript).each { String name, Method m ->
            if (name != 'from') {
                keys[name] = m.parameterTypes[0]
            }
        }
        BLOCKS.each { String block, Class<?> type ->
            option(type).each { String name, Method m -> keys[block + '.' + name] = m.parameterTypes[0] }
        }
        VALUES.each { String value, Class<? extends Record> type ->
            Records.components(type).each { String name, Class<?> t ->
                if (name != 'kind') {
                    keys[value + '.' + name] = t
                }
            }
        }
        keys
    }

    /** Applies the overrides in order; returns one message per refused override (none when all applied). */
    @PackageScope
    static List<String> apply(RecipeScript script, Map<String, String> overrides) {
        List<String> refused = []
        Map<String, Class<?>> keys = keys()
        overrides.each { String key, String text ->
            String source = "--set ${key}=${text}".toString()
            try {
                if (!keys.containsKey(key)) {
                    refused << "${source}: unknown key '${key}'; valid keys: ${validKeys(keys.keySet(), key)}".toString()
                    return
                }
                Object value = parse(keys[key], text)
                script.origins().overriding(source) { set(script, key, value) }
            } catch (NumberFormatException | PatternSyntaxException e) {
                refused << "${source}: ${key} takes ${Options.typeName(keys[key])}, not '${text}'".toString()
            }
        }
        refused
    }

    /** Keys whose value is a path: typed on the command line, it is read from where the command runs. */
    private static final Set<String> PATHS = ['output.dir', 'model.path'] as Set<String>

    private static void set(RecipeScript script, String key, Object value) {
        if (PATHS.contains(key)) {
            value = Path.of((String) value).toAbsolutePath().normalize().toString()
        }
        if (value instanceof JsonlSource) {
            script.origins().mark('file:' + ((JsonlSource) value).path())
        }
        int dot = key.indexOf('.')
        if (dot < 0) {
            option(RecipeScript)[key].invoke(script, [value] as Object[])
            return
        }
        String head = key.substring(0, dot)
        String name = key.substring(dot + 1)
        if (head == 'optimizer') {
            script.optimizerValue(name, value)
        } else if (head == 'schedule') {
            script.scheduleValue(name, value)
        } else {
            Context context = script.block(head)
            option(context.class)[name].invoke(context, [value] as Object[])
        }
    }

    /** Options whose single value can be read from text; the first overload that can wins. */
    private static Map<String, Method> option(Class<?> type) {
        Map<String, Method> found = [:]
        Options.of(type).each { Method m ->
            if (m.parameterTypes.length == 1 && readable(m.parameterTypes[0])) {
                if (!found.containsKey(m.name) || m.parameterTypes[0] == String[]) {
                    found[m.name] = m
                }
            }
        }
        found
    }

    private static boolean readable(Class<?> type) {
        type in [int, long, double, boolean, Number, String, String[], JsonlSource, Pattern]
    }

    private static Object parse(Class<?> type, String text) {
        switch (type) {
            case int: return Integer.parseInt(text.trim())
            case long: return Long.parseLong(text.trim())
            case double: return Double.parseDouble(text.trim())
            case boolean: return parseBoolean(text.trim())
            case Number: return new BigDecimal(text.trim())
            case String[]: return text.split(',')*.trim() as String[]
            // a path typed on the command line means a path from where the command runs
            case JsonlSource: return new JsonlSource(Path.of(text).toAbsolutePath().normalize(), null, null)
            case Pattern: return Pattern.compile(text)
            default: return text
        }
    }

    /** Only the words a recipe would write: Boolean.parseBoolean would read a typo as false. */
    private static boolean parseBoolean(String text) {
        if (text != 'true' && text != 'false') {
            throw new NumberFormatException(text)
        }
        text == 'true'
    }

    private static String validKeys(Set<String> keys, String key) {
        String head = key.contains('.') ? key.substring(0, key.indexOf('.')) : null
        List<String> sameBlock = keys.findAll { String k -> head != null && k.startsWith(head + '.') }.toList()
        (sameBlock ?: keys.toList()).join(', ')
    }
}
