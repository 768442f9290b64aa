package org.peft4j.dsl

import groovy.transform.CompileStatic

import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.util.regex.Pattern

/** Reads the {@link Option} methods of a context class, for error messages and overrides. */
@CompileStatic
final class Options {

    private Options() {
    }

    /** The option methods of {@code context}, sorted by name. */
    static List<Method> of(Class<?> context) {
        context.methods.findAll { Method m -> m.isAnnotationPresent(Option) && !Modifier.isStatic(m.modifiers) }
                .sort { Method m -> m.name }
    }

    /** Option names, blocks written as {@code name { }}. */
    static List<String> describe(Class<?> context) {
        of(context).collect { Method m -> takesBlock(m) ? "${m.name} { }".toString() : m.name }.unique()
    }

    /** Public methods called {@code name}, options or value helpers such as {@code jsonl(...)}. */
    static List<Method> named(Class<?> context, String name) {
        context.methods.findAll { Method m -> m.name == name && m.declaringClass != Object && m.declaringClass != Script }
    }

    static boolean takesBlock(Method m) {
        m.parameterTypes.length == 1 && Closure.isAssignableFrom(m.parameterTypes[0])
    }

    /** How a parameter type reads in a message. */
    static String typeName(Class<?> type) {
        switch (type) {
            case int: case Integer: case long: case Long: return 'a whole number'
            case double: case Double: case Number: case BigDecimal: return 'a number'
            case String: return 'a string in quotes'
            case String[]: return 'one or more strings'
            case Pattern: return 'a regex ~/.../'
            case Closure: return 'a block { ... }'
            case Map: return 'named values (name: value, ...)'
            case List: return 'a list [...]'
            case boolean: case Boolean: return 'true or false'
            default: return type.simpleName
        }
    }

    /** The name among {@code valid} closest to {@code name}, when it is close enough to be a typo. */
    static String closest(String name, Collection<String> valid) {
        String best = valid.min { String v -> distance(name.toLowerCase(), v.replace(' { }', '').toLowerCase()) }
        best != null && distance(name.toLowerCase(), best.replace(' { }', '').toLowerCase()) <= (name.length() <= 3 ? 1 : Math.max(2, name.length().intdiv(3) as int))
                ? best.replace(' { }', '') : null
    }

    private static int distance(String a, String b) {
        int[] prev = (0..b.length()) as int[]
        for (int i = 1; i <= a.length(); i++) {
            int[] cur = new int[b.length() + 1]
            cur[0] = i
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost)
            }
            prev = cur
        }
        prev[b.length()]
    }
}
