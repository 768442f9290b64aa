package org.peft4j.dsl

import groovy.transform.CompileStatic

import java.nio.file.Path

/** {@code params { lr 1e-3; r 8 }}: every name is a parameter, its value the default. */
@CompileStatic
class ParamsContext extends Context {

    private final Params params
    private final Map<String, String> overrides

    ParamsContext(Origins origins, Path baseDir, Params params, Map<String, String> overrides) {
        super(origins, 'params', baseDir)
        this.params = params
        this.overrides = overrides
    }

    /** A declaration: the name is the parameter, the single argument its default (a number, string, boolean or list). */
    Object methodMissing(String name, Object args) {
        Object[] values = (Object[]) args
        if (values.length != 1 || !(values[0] instanceof Number || values[0] instanceof String || values[0] instanceof Boolean
                || values[0] instanceof List)) {
            origins.problem("params.${name} needs one default value (a number, a string, true/false or a list), e.g. params { ${name} 1e-3 }".toString())
            return null
        }
        Object value = values[0]
        Object before = params.get(name)
        if (before != null && before.class != value.class) {
            origins.problem("params.${name} was declared as ${Options.typeName(before.class)} (${before}); a recipe may change its default, not its type".toString())
            return null
        }
        mark(name)
        params.put(name, value)
        String text = overrides[name]
        if (text != null) {
            origins.overriding("--set params.${name}=${text}".toString()) {
                try {
                    params.put(name, ParamValues.parse(name, value, text))
                    mark(name)
                } catch (IllegalArgumentException e) {
                    origins.problem(e.message)
                }
            }
        }
        null
    }
}
