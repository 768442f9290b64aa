package org.peft4j.dsl

import groovy.transform.CompileStatic
import groovy.transform.PackageScope
import groovy.transform.TimedInterrupt
import groovy.transform.TypeChecked
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.customizers.ASTTransformationCustomizer

import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path
import java.util.concurrent.Callable
import java.util.concurrent.ExecutionException
import java.util.concurrent.FutureTask
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

/**
 * One load of a recipe: how scripts compile (sandboxed or not), the {@code from} chain being run (to find
 * cycles), every file read (the run directory keeps copies), and the {@code params} overrides.
 */
@CompileStatic
final class Loading {

    final Origins origins = new Origins()
    final boolean allowCode
    /** Files read instead of the named ones: a rerun reads the copies kept in its run directory. */
    private final Map<Path, Path> copies
    final Map<String, String> paramOverrides
    /** Seconds that compiling a recipe, and running it, may each take; 0 for no limit. */
    final int timeLimit
    final Params params = new Params()
    private final List<Path> chain = []
    private final Map<Path, String> shown = [:]
    final List<Path> files = []

    Loading(boolean allowCode, Map<Path, Path> copies, Map<String, String> paramOverrides, int timeLimit) {
        this.allowCode = allowCode
        this.copies = copies ?: [:]
        this.paramOverrides = paramOverrides ?: [:]
        this.timeLimit = timeLimit
    }

    /** Compiles {@code file} (shown in messages as {@code display}) into a script ready to run. */
    RecipeScript open(Path file, String display) {
        Path abs = file.toAbsolutePath().normalize()
        shown[abs] = display
        String text = read(abs, display)
        if (!files.contains(abs)) {
            files << abs
        }
        Map<String, Class<?>> declared = ParamScan.declared(abs, text, this)
        RecipeScript script = compile(display, text, declared)
        origins.register(script.class.name, display)
        script.attach(this, abs)
        script
    }

    /** Runs the recipe that {@code from} names, for {@code child}; a file already in the chain is a cycle. */
    @PackageScope
    RecipeScript runBase(Path file, Path childFile) {
        Path abs = file.toAbsolutePath().normalize()
        String display = displayOf(abs, childFile)
        if (chain.contains(abs)) {
            List<String> names = (chain.subList(chain.indexOf(abs), chain.size()) + [abs]).collect { Path p -> shown[p] }
            throw new RecipeException("${origins.here().format(shown[childFile])}: from '${display}' makes a cycle: ${names.join(' → ')}".toString())
        }
        RecipeScript base = open(abs, display)
        run(base, abs)
        base
    }

    /** Runs a script with {@code file} on the chain. */
    void run(RecipeScript script, Path file) {
        chain << file.toAbsolutePath().normalize()
        try {
            script.run()
        } finally {
            chain.remove(chain.size() - 1)
        }
    }

    /** How a file reached through {@code from} is named in messages: relative to how its includer was named. */
    String displayOf(Path abs, Path childFile) {
        String child = shown[childFile]
        if (shown.containsKey(abs)) {
            return shown[abs]
        }
        Path parent = child == null ? null : Path.of(child).parent
        Path rel = childFile.parent.relativize(abs)
        (parent == null ? rel : parent.resolve(rel)).normalize().toString()
    }

    String read(Path abs, String display) {
        Path source = copies[abs] ?: abs
        try {
            Files.readString(source)
        } catch (NoSuchFileException ignored) {
            throw new RecipeException("${display}: no such recipe file (looked in ${source})".toString())
        }
    }

    private RecipeScript compile(String file, String text, Map<String, Class<?>> declaredParams) {
        CompilerConfiguration cc = new CompilerConfiguration()
        cc.scriptBaseClass = RecipeScript.name
        List<String> extensions = [RecipeTypeChecking.name]
        if (!allowCode) {
            // @Grab acts while parsing, before any check could refuse it
            cc.disabledGlobalASTTransformations = ['groovy.grape.GrabAnnotationTransformation'] as Set<String>
            cc.addCompilationCustomizers(RecipeSandbox.both() as org.codehaus.groovy.control.customizers.CompilationCustomizer[])
            extensions << SandboxTypeChecking.name
        }
        // type-checked, so that a misspelt block or option fails before anything runs
        cc.addCompilationCustomizers(new ASTTransformationCustomizer([extensions: extensions], TypeChecked))
        if (timeLimit > 0) {
            // a check at every loop, closure and method start: a recipe that runs too long throws at its own line.
            // After the sandbox's shape check, which so never sees the check's own System and TimeoutException.
            cc.addCompilationCustomizers(new ASTTransformationCustomizer([value: (long) timeLimit], TimedInterrupt))
        }
        GroovyShell shell = new GroovyShell(RecipeLoader.classLoader, new Binding(), cc)
        String name = 'Recipe_' + Integer.toHexString(file.hashCode()) + '_' + files.size() + '.groovy'
        Callable<RecipeScript> parse = {
            RecipeTypeChecking.PARAMS.set(declaredParams)
            try {
                (RecipeScript) shell.parse(text, name)
            } catch (MultipleCompilationErrorsException e) {
                throw new RecipeException(CompileErrors.of(file, e), e)
            } finally {
                RecipeTypeChecking.PARAMS.remove()
            }
        } as Callable<RecipeScript>
        timeLimit > 0 ? withinLimit(file, parse) : parse.call()
    }

    /**
     * Compiles on a daemon thread that is abandoned after {@link #timeLimit} seconds: compiling cannot be
     * interrupted from outside, and a command that gives up must not wait for it.
     */
    private RecipeScript withinLimit(String file, Callable<RecipeScript> parse) {
        FutureTask<RecipeScript> task = new FutureTask<>(parse)
        Thread compiler = new Thread(task, 'recipe-compiler')
        compiler.daemon = true
        compiler.start()
        try {
            task.get(timeLimit, TimeUnit.SECONDS)
        } catch (TimeoutException ignored) {
            compiler.interrupt()
            throw new RecipeException("${file}: compiling the recipe took more than ${timeLimit} s and was abandoned;".toString() +
                    ' on a very busy machine give it longer with --recipe-timeout SECONDS')
        } catch (ExecutionException e) {
            throw e.cause
        }
    }
}
