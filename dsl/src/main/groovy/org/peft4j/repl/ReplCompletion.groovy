package org.peft4j.repl

import org.peft4j.dsl.Overrides
import org.peft4j.nn.Module

import java.nio.file.Files
import java.nio.file.Path
import java.util.regex.Matcher

/**
 * What Tab offers where the cursor is: module paths inside {@code model['…']}, recipe keys inside
 * {@code set '…'}, file paths inside any other string, methods and properties of a value after a dot, and the
 * variables and verbs elsewhere. Each candidate replaces the {@link #word} being typed.
 */
final class ReplCompletion {

    private ReplCompletion() {
    }

    /** Where the word being completed starts in {@code before} (the line up to the cursor). */
    static int wordStart(String before) {
        int quote = openQuote(before)
        if (quote >= 0) {
            return quote + 1
        }
        int i = before.length()
        while (i > 0 && Character.isJavaIdentifierPart(before.charAt(i - 1))) {
            i--
        }
        i
    }

    /** The word being completed: an identifier, or the text of an open string. */
    static String word(String before) {
        before.substring(wordStart(before))
    }

    /** The candidates for the word at the end of {@code before}, sorted, each a whole replacement of the word. */
    static List<String> candidates(String before, Binding binding) {
        int start = wordStart(before)
        String word = before.substring(start)
        String head = before.substring(0, start)
        List<String> all
        if (openQuote(before) >= 0) {
            String lead = head.substring(0, head.length() - 1)
            Matcher index = lead =~ /([A-Za-z_][\w.]*)\s*\[\s*$/
            Matcher set = lead =~ /(?:^|[^\w])([A-Za-z_][\w.]*)\s*\.\s*set\s*\(?\s*$/
            if (index.find()) {
                all = nextSegment(modulePaths(value(index.group(1), binding)), word)
            } else if (set.find()) {
                all = recipeKeys(value(set.group(1), binding))
            } else {
                all = files(word)
            }
        } else if (head.endsWith('.')) {
            Matcher m = head =~ /([A-Za-z_][\w.]*?)\.$/
            all = m.find() ? members(value(m.group(1), binding)) : []
        } else {
            all = (binding.variables.keySet() as List<String>) + ReplScript.VERBS
        }
        all.findAll { it.startsWith(word) }.unique().sort()
    }

    /** The start of the string the cursor is in, or -1 outside strings (single and double quotes). */
    private static int openQuote(String s) {
        int open = -1
        char quote = 0
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i)
            if (open >= 0) {
                if (c == ('\\' as char)) {
                    i++
                } else if (c == quote) {
                    open = -1
                }
            } else if (c == ('\'' as char) || c == ('"' as char)) {
                open = i
                quote = c
            }
        }
        open
    }

    /** A dotted chain of variable and property names, read from the binding; null when it cannot be read. */
    static Object value(String chain, Binding binding) {
        List<String> parts = chain.tokenize('.')
        if (!parts || !binding.hasVariable(parts[0])) {
            return null
        }
        Object v = binding.getVariable(parts[0])
        try {
            for (String p : parts.drop(1)) {
                v = v?."$p"
            }
        } catch (Exception ignored) {
            return null
        }
        v
    }

    private static List<String> modulePaths(Object v) {
        Module m = v instanceof ModuleView ? ((ModuleView) v).module() : v instanceof ReplSession
                ? ((ReplSession) v).run.model() : v instanceof Module ? (Module) v : null
        m == null ? [] : m.namedModules().keySet().findAll { it } as List<String>
    }

    /** Paths cut after the segment being typed, so that Tab walks the tree a level at a time. */
    private static List<String> nextSegment(List<String> paths, String word) {
        int from = word.lastIndexOf('.') + 1
        paths.findAll { it.startsWith(word) }.collect { String p ->
            int dot = p.indexOf('.', from)
            dot < 0 ? p : p.substring(0, dot)
        }
    }

    private static List<String> recipeKeys(Object v) {
        List<String> keys = Overrides.keys().keySet() as List<String>
        if (v instanceof ReplRecipe) {
            keys += ((ReplRecipe) v).recipe.params().keySet().collect { "params.${it}".toString() }
        }
        keys
    }

    /** Entries of the folder the word names (relative to the current folder), folders ending in '/'. */
    private static List<String> files(String word) {
        int slash = word.lastIndexOf('/')
        String folder = slash < 0 ? '' : word.substring(0, slash + 1)
        Path dir = Path.of(folder.isEmpty() ? '.' : folder.replaceFirst(/^~(?=\/)/, System.getProperty('user.home')))
        if (!Files.isDirectory(dir)) {
            return []
        }
        Files.list(dir).withCloseable { s ->
            s.collect { Path p -> folder + p.fileName.toString() + (Files.isDirectory(p) ? '/' : '') }
        } as List<String>
    }

    /** A value's methods (with an open parenthesis) and properties; a module view's children first. */
    private static List<String> members(Object v) {
        if (v == null) {
            return []
        }
        List<String> out = []
        if (v instanceof ModuleView) {
            out += ((ModuleView) v).children() as List<String>
            v = ((ModuleView) v).module()
        }
        out += v.metaClass.properties*.name.findAll { it != 'class' && it != 'metaClass' }
        out += v.metaClass.methods.findAll { it.isPublic() && !it.isStatic() && !it.name.contains('$') &&
                !(it.name in ['wait', 'notify', 'notifyAll', 'getMetaClass', 'setMetaClass', 'invokeMethod',
                              'getProperty', 'setProperty', 'methodMissing', 'propertyMissing']) }
                .collect { it.name + '(' }
        out
    }
}
