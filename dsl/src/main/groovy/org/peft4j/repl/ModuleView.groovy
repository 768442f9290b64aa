package org.peft4j.repl

import org.peft4j.nn.Module
import org.peft4j.nn.ModuleTree
import org.peft4j.nn.Parameter

/**
 * A module walked by its Hugging Face names: {@code model.bert.encoder.layer[0]} and
 * {@code model['bert.encoder.layer.0.attention.self.query']} give the module there, as a view again (a parameter's
 * name, {@code query.weight}, gives the parameter); methods the
 * view does not have go to the module ({@code model.trainableParameterCount()}). Prints as its module tree.
 */
class ModuleView {

    /** Lines of tree a view prints before it is shortened. */
    static final int LINES = 60

    private final Module module
    private final String path

    ModuleView(Module module, String path = '') {
        this.module = module
        this.path = path
    }

    /** The module itself, for Java APIs. */
    Module module() {
        module
    }

    /** Its path from the model's root, as Hugging Face names it ('' for the root). */
    String path() {
        path
    }

    /** The child of this name: {@code model.bert}. */
    def propertyMissing(String name) {
        at(name)
    }

    /** The module at a dotted path below this one: {@code model['bert.encoder.layer.0']}. */
    Object getAt(String dotted) {
        at(dotted)
    }

    /** A numbered child, as in a module list: {@code layer[0]}. */
    Object getAt(int index) {
        at(Integer.toString(index))
    }

    /** The module at {@code dotted}, or the parameter there when its last name is one ({@code query.weight}). */
    private Object at(String dotted) {
        try {
            int dot = dotted.lastIndexOf('.')
            Module parent = module.module(dot < 0 ? '' : dotted.substring(0, dot))
            Parameter p = parent.parameters()[dotted.substring(dot + 1)]
            p != null ? p : new ModuleView(module.module(dotted), Module.join(path, dotted))
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("${path ?: 'the model'}: ${e.message}", e)
        }
    }

    /** The names of the children, for completion. */
    Set<String> children() {
        module.children().keySet()
    }

    def methodMissing(String name, Object args) {
        module.invokeMethod(name, args)
    }

    @Override
    String toString() {
        (path ? "${path}: " : '') + ModuleTree.format(module, LINES)
    }
}
