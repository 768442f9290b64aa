package org.peft4j.dsl

import org.codehaus.groovy.ast.ClassHelper
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.MethodNode
import org.codehaus.groovy.ast.expr.ArgumentListExpression
import org.codehaus.groovy.ast.expr.ClosureExpression
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.ast.expr.MethodCall
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.PropertyExpression
import org.codehaus.groovy.ast.expr.VariableExpression
import org.codehaus.groovy.transform.stc.AbstractTypeCheckingExtension
import org.codehaus.groovy.transform.stc.StaticTypeCheckingVisitor
import org.codehaus.groovy.transform.stc.StaticTypesMarker

import java.lang.reflect.Method

/**
 * Type-checking extension for recipes: turns "cannot find matching method" into a message that names the
 * block, lists its valid options, and suggests the nearest one; a wrong value type names the expected type.
 * The recipe still fails to compile; only the wording changes.
 */
class RecipeTypeChecking extends AbstractTypeCheckingExtension {

    private static final Map<Class<?>, String> BLOCKS = [
            (RecipeScript) : 'the top level of a recipe',
            (ModelContext) : 'model { }',
            (LoraContext)  : 'lora { }',
            (AdaLoraContext): 'adalora { }',
            (DataContext)  : 'data { }',
            (JsonlContext) : "jsonl('...') { }",
            (TrainContext) : 'train { }',
            (OutputContext): 'output { }',
            (ParamsContext): 'params { }',
    ]

    /** The params in scope of the recipe being compiled, with the types of their defaults ({@link ParamScan}). */
    static final ThreadLocal<Map<String, Class<?>>> PARAMS = new ThreadLocal<>()

    /** Blocks of unknown calls: their contents cannot be checked, and one error for the block is enough. */
    private final Set<ClosureExpression> orphans = Collections.newSetFromMap(new IdentityHashMap<ClosureExpression, Boolean>())

    RecipeTypeChecking(StaticTypeCheckingVisitor visitor) {
        super(visitor)
    }

    @Override
    List<MethodNode> handleMissingMethod(ClassNode receiver, String name, ArgumentListExpression argumentList,
                                         ClassNode[] argumentTypes, MethodCall call) {
        if (!(call instanceof MethodCallExpression) || !((MethodCallExpression) call).implicitThis) {
            return []
        }
        if (insideOrphan()) {
            return [makeDynamic(call)]
        }
        Class<?> block = enclosingBlock(receiver)
        if (block == null) {
            return []
        }
        if (block == ParamsContext) {
            // every name in a params block declares a param
            return [makeDynamic(call)]
        }
        List<Method> same = Options.named(block, name)
        String message = same ? wrongType(block, name, argumentTypes, same) : unknown(block, name)
        addStaticTypeError(message, (Expression) call)
        argumentList.expressions.findAll { it instanceof ClosureExpression }.each { orphans << (ClosureExpression) it }
        [makeDynamic(call)]
    }

    @Override
    boolean handleUnresolvedVariableExpression(VariableExpression variable) {
        if (insideOrphan()) {
            return true
        }
        Class<?> block = enclosingBlock(null) ?: RecipeScript
        addStaticTypeError("unknown name '${variable.name}' in ${BLOCKS[block]}: quote text ('${variable.name}')," +
                " and set an option by calling it (e.g. r 8, not r = 8); valid options: ${Options.describe(block).join(', ')}",
                variable)
        true
    }

    @Override
    boolean handleUnresolvedProperty(PropertyExpression p) {
        ClassNode owner = getType(p.objectExpression)
        if (owner == null || owner.name != Params.name) {
            return false
        }
        Map<String, Class<?>> declared = PARAMS.get() ?: [:]
        String name = p.propertyAsString
        if (declared.containsKey(name)) {
            storeType(p, ClassHelper.make(declared[name]))
        } else {
            String guess = Options.closest(name, declared.keySet())
            addStaticTypeError("params.${name} is not declared${guess ? "; did you mean 'params.${guess}'?" : ''};" +
                    " declared: ${declared.keySet().join(', ') ?: 'none'} (declare it with params { ${name} <default> })", p)
            storeType(p, ClassHelper.OBJECT_TYPE)
        }
        true
    }

    private boolean insideOrphan() {
        enclosingClosureStack.any { orphans.contains(it.closureExpression) }
    }

    /** The context class whose names a call resolves against: the innermost recipe block, else the script. */
    private Class<?> enclosingBlock(ClassNode receiver) {
        def closure = enclosingClosure
        if (closure != null) {
            ClassNode type = delegateType(closure.closureExpression.getNodeMetaData(StaticTypesMarker.DELEGATION_METADATA))
            if (type != null && type.isResolved() && BLOCKS.containsKey(type.typeClass)) {
                return type.typeClass
            }
        }
        ClassNode script = receiver ?: context.enclosingClassNode
        script != null && script.isDerivedFrom(ClassHelper.make(RecipeScript)) ? RecipeScript : null
    }

    /** Groovy keeps DelegationMetadata package-private, so its type is read reflectively. */
    private static ClassNode delegateType(Object metadata) {
        if (metadata == null) {
            return null
        }
        Method getType = metadata.getClass().getDeclaredMethod('getType')
        getType.accessible = true
        (ClassNode) getType.invoke(metadata)
    }

    private static String unknown(Class<?> block, String name) {
        List<String> valid = Options.describe(block)
        String guess = Options.closest(name, valid)
        String what = block == RecipeScript ? 'block or option' : 'option'
        "unknown ${what} '${name}' in ${BLOCKS[block]}${guess ? "; did you mean '${guess}'?" : ''}; valid: ${valid.join(', ')}"
    }

    private static String wrongType(Class<?> block, String name, ClassNode[] given, List<Method> candidates) {
        String expected = candidates.collect { Method m ->
            m.parameterTypes.length == 0 ? 'nothing' : m.parameterTypes.collect { Options.typeName(it) }.join(', ')
        }.unique().join(' or ')
        String got = given.length == 0 ? 'nothing' : given.collect { Options.typeName(it.isResolved() ? it.typeClass : Object) }.join(', ')
        "${name} in ${BLOCKS[block]} takes ${expected}, not ${got}"
    }
}
