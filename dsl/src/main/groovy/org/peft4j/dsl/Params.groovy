package org.peft4j.dsl

import groovy.transform.CompileStatic

/**
 * The values a recipe exposes: {@code params { lr 1e-3; r 8 }}, read later as {@code params.lr}. A value
 * set with {@code --set params.lr=...} wins over every default, whichever recipe of a {@code from} chain declared it.
 */
@CompileStatic
class Params {

    private final Map<String, Object> values = new LinkedHashMap<>()

    Object propertyMissing(String name) {
        if (!values.containsKey(name)) {
            throw new IllegalStateException("params.${name} is not declared; declared: ${values.keySet().join(', ') ?: 'none'}" +
                    " (declare it first: params { ${name} <default> })")
        }
        values[name]
    }

    Map<String, Object> asMap() {
        Collections.unmodifiableMap(values)
    }

    boolean has(String name) {
        values.containsKey(name)
    }

    void put(String name, Object value) {
        values[name] = value
    }

    Object get(String name) {
        values[name]
    }
}
