package org.peft4j.dsl

import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.MethodNode
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.transform.stc.AbstractTypeCheckingExtension
import org.codehaus.groovy.transform.stc.ExtensionMethodNode
import org.codehaus.groovy.transform.stc.StaticTypeCheckingVisitor

/**
 * The second half of {@link RecipeSandbox}: after types are known, every method a recipe calls must belong to
 * the DSL or to plain values (text, numbers, lists, maps). What the shape check cannot see, e.g. a method
 * reached through a value's type, is refused here.
 */
class SandboxTypeChecking extends AbstractTypeCheckingExtension {

    private static final Set<String> VALUE_CLASSES = ['java.lang.String', 'groovy.lang.GString', 'java.lang.CharSequence',
            'java.lang.Number', 'java.lang.Integer', 'java.lang.Long', 'java.lang.Double', 'java.lang.Float',
            'java.math.BigDecimal', 'java.math.BigInteger', 'java.lang.Boolean', 'java.lang.Math', 'java.lang.Comparable',
            'java.util.List', 'java.util.Collection', 'java.util.Map', 'java.util.Set', 'java.lang.Iterable',
            'java.util.regex.Pattern', 'java.lang.Object', 'groovy.lang.Closure',
            'org.codehaus.groovy.runtime.DefaultGroovyMethods', 'org.codehaus.groovy.runtime.StringGroovyMethods',
            'org.codehaus.groovy.runtime.typehandling.NumberMath'] as Set<String>

    SandboxTypeChecking(StaticTypeCheckingVisitor visitor) {
        super(visitor)
    }

    @Override
    void onMethodSelection(Expression call, MethodNode target) {
        if (call.lineNumber < 1) {
            // code the compiler adds (the time limit's check) has no line; a recipe's own code always has one
            return
        }
        MethodNode m = target instanceof ExtensionMethodNode ? ((ExtensionMethodNode) target).extensionMethodNode : target
        ClassNode owner = m.declaringClass
        String name = owner.name
        boolean allowed = name.startsWith('org.peft4j.dsl.') || name.startsWith('org.peft4j.train.') && name.endsWith('Config')
                || name.startsWith('org.codehaus.groovy.runtime.dgmimpl.')
                || (name == 'groovy.lang.Script' && m.name in ['println', 'print', 'printf'])
                || (VALUE_CLASSES.contains(name) && !RecipeSandbox.NAMES.contains(m.name)
                    && !(name == 'groovy.lang.Closure' && !(m.name in ['call', 'curry'])))
        if (!allowed) {
            addStaticTypeError("refused: ${owner.nameWithoutPackage}.${m.name}(...); ${RecipeSandbox.HINT}", call)
        }
    }
}
