package org.peft4j.dsl

import groovy.transform.CompileStatic
import org.codehaus.groovy.ast.expr.ArgumentListExpression
import org.codehaus.groovy.ast.expr.ClosureExpression
import org.codehaus.groovy.ast.expr.ConstantExpression
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.ast.expr.ListExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.UnaryMinusExpression
import org.codehaus.groovy.ast.stmt.BlockStatement
import org.codehaus.groovy.ast.stmt.ExpressionStatement
import org.codehaus.groovy.ast.stmt.Statement
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases

import java.nio.file.Path

/**
 * Finds the {@code params} a recipe declares, its own and those of the recipes it starts {@code from},
 * before it is type-checked: {@code params.lr} then has the type of its default value, and a misspelt
 * {@code params.lrr} fails at compile time like any other name.
 */
@CompileStatic
final class ParamScan {

    private ParamScan() {
    }

    static Map<String, Class<?>> declared(Path file, String text, Loading loading, Set<Path> seen = [] as Set<Path>) {
        Map<String, Class<?>> found = [:]
        if (!seen.add(file)) {
            return found
        }
        for (Statement s : topLevel(text)) {
            MethodCallExpression call = callOf(s)
            if (call == null || !call.implicitThis) {
                continue
            }
            List<Expression> args = ((ArgumentListExpression) call.arguments).expressions
            if (call.methodAsString == 'from' && args.size() == 1 && args[0] instanceof ConstantExpression) {
                Path base = file.parent.resolve(String.valueOf(((ConstantExpression) args[0]).value)).normalize()
                try {
                    found.putAll(declared(base, loading.read(base, base.toString()), loading, seen))
                } catch (RecipeException ignored) {
                    // the load itself reports a missing base, at the line of its from
                }
            } else if (call.methodAsString == 'params' && args.size() == 1 && args[0] instanceof ClosureExpression) {
                Statement code = ((ClosureExpression) args[0]).code
                for (Statement p : (code instanceof BlockStatement ? ((BlockStatement) code).statements : [code])) {
                    MethodCallExpression decl = callOf(p)
                    if (decl != null && decl.implicitThis) {
                        List<Expression> v = ((ArgumentListExpression) decl.arguments).expressions
                        found[decl.methodAsString] = v.size() == 1 ? typeOf(v[0]) : Object
                    }
                }
            }
        }
        found
    }

    private static List<Statement> topLevel(String text) {
        try {
            CompilerConfiguration cc = new CompilerConfiguration()
            // a scan must never act on the recipe: @Grab would download while parsing
            cc.disabledGlobalASTTransformations = ['groovy.grape.GrabAnnotationTransformation'] as Set<String>
            CompilationUnit unit = new CompilationUnit(cc)
            unit.addSource('scan.groovy', text)
            unit.compile(Phases.CONVERSION)
            unit.AST.modules[0].statementBlock.statements
        } catch (Exception ignored) {
            // a recipe that does not parse gets its error from the real compile
            []
        }
    }

    private static MethodCallExpression callOf(Statement s) {
        s instanceof ExpressionStatement && ((ExpressionStatement) s).expression instanceof MethodCallExpression
                ? (MethodCallExpression) ((ExpressionStatement) s).expression : null
    }

    private static Class<?> typeOf(Expression e) {
        if (e instanceof UnaryMinusExpression) {
            return typeOf(((UnaryMinusExpression) e).expression)
        }
        if (e instanceof ListExpression) {
            return List
        }
        if (e instanceof ConstantExpression && ((ConstantExpression) e).value != null) {
            return ((ConstantExpression) e).value.class
        }
        Object
    }
}
