package org.peft4j.dsl

import groovy.transform.CompileStatic
import org.codehaus.groovy.ast.AnnotatedNode
import org.codehaus.groovy.ast.AnnotationNode
import org.codehaus.groovy.ast.ASTNode
import org.codehaus.groovy.ast.ClassCodeVisitorSupport
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.ImportNode
import org.codehaus.groovy.ast.MethodNode
import org.codehaus.groovy.ast.ModuleNode
import org.codehaus.groovy.ast.expr.AttributeExpression
import org.codehaus.groovy.ast.expr.ClassExpression
import org.codehaus.groovy.ast.expr.ConstructorCallExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.MethodPointerExpression
import org.codehaus.groovy.ast.expr.PropertyExpression
import org.codehaus.groovy.ast.expr.StaticMethodCallExpression
import org.codehaus.groovy.ast.expr.VariableExpression
import org.codehaus.groovy.classgen.GeneratorContext
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.SourceUnit
import org.codehaus.groovy.control.customizers.CompilationCustomizer

/**
 * The default mode for recipes: a recipe may only use the DSL. This pass refuses, by the shape of the code,
 * what reaches outside it (imports, annotations such as {@code @Grab}, class references such as {@code System}
 * or {@code File}, {@code new}, method pointers, reflection and metaclass names, {@code execute()}, {@code evaluate});
 * {@link SandboxTypeChecking} then refuses any call whose resolved method lies outside the allowed classes.
 * Every refusal names the construct and its line. {@code --allow-code} turns both off.
 * <p>
 * Not Groovy's {@code SecureASTCustomizer}: its refusals carry no line number ("Indirect import checks prevents
 * usage of expression"), and a refused shared recipe should say where and what.
 */
@CompileStatic
class RecipeSandbox extends CompilationCustomizer {

    static final String HINT = 'a recipe may only use the DSL; run with --allow-code if you trust this recipe'

    /** Names that reach the JVM behind the DSL, whatever the receiver: processes, reflection, metaclasses, scripts. */
    static final Set<String> NAMES = ['execute', 'evaluate', 'forName', 'getClass', 'class', 'getMetaClass', 'setMetaClass',
            'metaClass', 'invokeMethod', 'getProperty', 'setProperty', 'getProperties', 'properties', 'getClassLoader',
            'classLoader', 'getBinding', 'setBinding', 'binding', 'run', 'exit', 'halt', 'load', 'loadLibrary', 'newInstance',
            'getDeclaredMethod', 'getDeclaredMethods', 'getMethod', 'getMethods', 'getDeclaredField', 'getDeclaredFields',
            'getField', 'getFields', 'declaredMethods', 'declaredFields', 'methods', 'fields', 'use', 'mixin', 'sleep',
            'addShutdownHook', 'getDelegate', 'setDelegate', 'delegate', 'getOwner', 'owner', 'thisObject', 'rehydrate',
            'dehydrate', 'setResolveStrategy', 'resolveStrategy', 'withTraits', 'asType', 'identity', 'with', 'tap'] as Set<String>

    /** Imports and annotations are refused as parsed (an unresolvable import fails right after); expressions once names resolve. */
    static List<RecipeSandbox> both() {
        [new RecipeSandbox(CompilePhase.CONVERSION), new RecipeSandbox(CompilePhase.CANONICALIZATION)]
    }

    private RecipeSandbox(CompilePhase phase) {
        super(phase)
    }

    @Override
    void call(SourceUnit source, GeneratorContext context, ClassNode classNode) throws CompilationFailedException {
        if (phase == CompilePhase.CANONICALIZATION) {
            new Checker(source).visitClass(classNode)
            return
        }
        new Annotations(source).visitClass(classNode)
        if (!classNode.script) {
            refuse(source, "defining class ${classNode.nameWithoutPackage}", classNode)
            return
        }
        ModuleNode module = source.AST
        for (ImportNode i : module.imports + module.starImports + (module.staticImports.values() as List<ImportNode>)
                + (module.staticStarImports.values() as List<ImportNode>)) {
            refuse(source, "'${i.text}'", i)
        }
        if (module.package != null) {
            refuse(source, "a package declaration", module.package)
        }
        for (MethodNode m : classNode.methods) {
            if (m.name != 'run' && m.name != 'main' && m.lineNumber > 0) {
                refuse(source, "defining method ${m.name}()", m)
            }
        }
    }

    static void refuse(SourceUnit source, String what, ASTNode node) {
        // code the compiler generates (the script's main method and constructor) has no line
        if (node.lineNumber < 1) {
            return
        }
        source.addError(new org.codehaus.groovy.syntax.SyntaxException(
                "refused: ${what}; ${HINT}".toString(), node.lineNumber, node.columnNumber))
    }

    private static class Annotations extends ClassCodeVisitorSupport {
        final SourceUnit sourceUnit

        Annotations(SourceUnit source) {
            this.sourceUnit = source
        }

        @Override
        protected SourceUnit getSourceUnit() {
            sourceUnit
        }

        @Override
        void visitAnnotations(AnnotatedNode node) {
            for (AnnotationNode a : node.annotations) {
                refuse(sourceUnit, "the annotation @${a.classNode.nameWithoutPackage}", a)
            }
            super.visitAnnotations(node)
        }
    }

    private static class Checker extends ClassCodeVisitorSupport {
        final SourceUnit sourceUnit

        Checker(SourceUnit source) {
            this.sourceUnit = source
        }

        @Override
        protected SourceUnit getSourceUnit() {
            sourceUnit
        }

        @Override
        void visitClassExpression(ClassExpression e) {
            if (e.type.name != 'java.lang.Math') {
                refuse(sourceUnit, "the class ${e.type.name}", e)
            }
        }

        @Override
        void visitConstructorCallExpression(ConstructorCallExpression e) {
            refuse(sourceUnit, "new ${e.type.nameWithoutPackage}(...)", e)
            super.visitConstructorCallExpression(e)
        }

        @Override
        void visitStaticMethodCallExpression(StaticMethodCallExpression e) {
            if (NAMES.contains(e.method)) {
                refuse(sourceUnit, "${e.method}(...)", e)
            }
            super.visitStaticMethodCallExpression(e)
        }

        @Override
        void visitMethodCallExpression(MethodCallExpression e) {
            String name = e.methodAsString
            if (name == null) {
                refuse(sourceUnit, 'a method call by a computed name', e)
            } else if (NAMES.contains(name)) {
                refuse(sourceUnit, "${e.implicitThis ? '' : '.'}${name}(...)", e)
            }
            super.visitMethodCallExpression(e)
        }

        @Override
        void visitPropertyExpression(PropertyExpression e) {
            String name = e.propertyAsString
            if (name == null) {
                refuse(sourceUnit, 'a property by a computed name', e)
            } else if (NAMES.contains(name)) {
                refuse(sourceUnit, ".${name}", e)
            }
            super.visitPropertyExpression(e)
        }

        @Override
        void visitAttributeExpression(AttributeExpression e) {
            refuse(sourceUnit, "the field access .@${e.propertyAsString}", e)
        }

        @Override
        void visitMethodPointerExpression(MethodPointerExpression e) {
            refuse(sourceUnit, "the method pointer .&${e.methodName.text}", e)
        }

        @Override
        void visitVariableExpression(VariableExpression e) {
            if (NAMES.contains(e.name)) {
                refuse(sourceUnit, "'${e.name}'", e)
            }
        }
    }
}
