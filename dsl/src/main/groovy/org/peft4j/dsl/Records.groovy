package org.peft4j.dsl

import groovy.transform.CompileStatic

import java.lang.reflect.RecordComponent

/** Copies of the runtime's config records with one component changed. */
@CompileStatic
final class Records {

    private Records() {
    }

    static <R extends Record> R with(R record, String component, Object value) {
        RecordComponent[] components = record.class.recordComponents
        if (!components.any { RecordComponent c -> c.name == component }) {
            throw new IllegalArgumentException("${record.class.simpleName} has no component '${component}'")
        }
        Object[] args = components.collect { RecordComponent c -> c.name == component ? value : c.accessor.invoke(record) } as Object[]
        Class<?>[] types = components.collect { RecordComponent c -> c.type } as Class<?>[]
        (R) record.class.getDeclaredConstructor(types).newInstance(args)
    }

    /** Component names and types, in declaration order. */
    static Map<String, Class<?>> components(Class<? extends Record> type) {
        type.recordComponents.collectEntries { RecordComponent c -> [c.name, c.type] } as Map<String, Class<?>>
    }
}
