package org.peft4j.nn;

import ai.djl.ndarray.types.DataType;
import org.peft4j.tensor.Precision;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of the model tree: named children and named parameters. Paths join names with dots, so a
 * parameter's path is its Hugging Face name ({@code encoder.layer.0.attention.self.query.weight}).
 *
 * <p>Parents look their children up by name at forward time, so an adapter can be put in a
 * child's place ({@link #replaceChild}) without the parent knowing.
 */
public abstract class Module {

    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private boolean training;

    protected <M extends Module> M addChild(String name, M child) {
        if (children.putIfAbsent(name, child) != null) {
            throw new IllegalStateException("child '" + name + "' already exists in " + getClass().getSimpleName());
        }
        return child;
    }

    protected Parameter addParameter(String name, Parameter parameter) {
        if (parameters.putIfAbsent(name, parameter) != null) {
            throw new IllegalStateException("parameter '" + name + "' already exists in " + getClass().getSimpleName());
        }
        return parameter;
    }

    protected void removeParameter(String name) {
        parameters.remove(name);
    }

    /** The direct child with this name. */
    public Module child(String name) {
        Module m = children.get(name);
        if (m == null) {
            throw new IllegalArgumentException("no child '" + name + "' in " + getClass().getSimpleName()
                    + "; children: " + children.keySet());
        }
        return m;
    }

    /** The direct child, as a linear layer (plain or adapted). */
    protected LinearLayer linear(String name) {
        return (LinearLayer) child(name);
    }

    /** Puts {@code replacement} where the child {@code name} was; returns the old child. */
    public Module replaceChild(String name, Module replacement) {
        Module old = child(name);
        children.put(name, replacement);
        replacement.train(training);
        return old;
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** Every module below (and including) this one, by dotted path; this one has path "". */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        out.put(prefix, this);
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collectModules(join(prefix, e.getKey()), out);
        }
    }

    /** Every parameter below this module, by dotted path. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            out.put(join(prefix, e.getKey()), e.getValue());
        }
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collectParameters(join(prefix, e.getKey()), out);
        }
    }

    /** The module at a dotted path below this one. */
    public Module module(String path) {
        Module m = this;
        if (path.isEmpty()) {
            return m;
        }
        for (String part : path.split("\\.")) {
            m = m.child(part);
        }
        return m;
    }

    public static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    /** Sets training mode (dropout on) for this module and all below. */
    public void train(boolean on) {
        training = on;
        for (Module c : children.values()) {
            c.train(on);
        }
    }

    public boolean isTraining() {
        return training;
    }

    /** Freezes or unfreezes every parameter below this module. */
    public void setTrainable(boolean trainable) {
        namedParameters().values().forEach(p -> p.setTrainable(trainable));
    }

    /**
     * Stores every frozen floating-point parameter below this module as {@code dtype}; trainable
     * ones keep theirs (float32), so the optimizer's updates and moments never round to half
     * precision. Returns how many parameters changed. Layers cast their input to their weight's
     * dtype ({@link Precision#like}), so frozen half-precision layers and float32 adapters compose.
     */
    public int castFrozen(DataType dtype) {
        int n = 0;
        for (Parameter p : namedParameters().values()) {
            if (!p.trainable() && p.value().getDataType().isFloating() && p.value().getDataType() != dtype) {
                p.castTo(dtype);
                n++;
            }
        }
        return n;
    }

    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(Parameter::size).sum();
    }

    public long trainableParameterCount() {
        return namedParameters().values().stream().filter(Parameter::trainable).mapToLong(Parameter::size).sum();
    }
}
