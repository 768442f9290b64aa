package org.peft4j.dsl

import groovy.transform.CompileStatic

/** Reads a {@code --set params.x=...} text as the type of the parameter's default; IllegalArgumentException says why not. */
@CompileStatic
final class ParamValues {

    private ParamValues() {
    }

    static Object parse(String name, Object defaultValue, String text) {
        String t = text.trim()
        try {
            switch (defaultValue) {
                case Integer: return Integer.valueOf(t)
                case Long: return Long.valueOf(t)
                case BigDecimal: return new BigDecimal(t)
                case Double: return Double.valueOf(t)
                case Float: return Float.valueOf(t)
                case Boolean:
                    if (t != 'true' && t != 'false') {
                        throw new NumberFormatException(t)
                    }
                    return Boolean.valueOf(t)
                case List: return t.isEmpty() ? [] : t.split(',')*.trim()
                default: return text
            }
        } catch (NumberFormatException ignored) {
            throw new IllegalArgumentException("params.${name} takes ${Options.typeName(defaultValue.class)}" +
                    " (its default is ${defaultValue}), not '${text}'".toString())
        }
    }
}
