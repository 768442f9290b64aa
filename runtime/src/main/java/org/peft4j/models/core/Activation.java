package org.peft4j.models.core;

import ai.djl.ndarray.NDArray;
import org.peft4j.tensor.Functional;

import java.util.Arrays;
import java.util.List;

/** The feed-forward activations of the families peft4j loads, by their Hugging Face names. */
public enum Activation {
    /** GELU with the exact erf (Hendrycks &amp; Gimpel 2016): BERT's {@code gelu}. */
    GELU(List.of("gelu")),
    /** GELU's tanh approximation: GPT-2's {@code gelu_new}, Gemma's {@code gelu_pytorch_tanh}. */
    GELU_TANH(List.of("gelu_new", "gelu_pytorch_tanh")),
    /** SiLU, x σ(x): Llama's {@code silu}. */
    SILU(List.of("silu", "swish"));

    private final List<String> hfNames;

    Activation(List<String> hfNames) {
        this.hfNames = hfNames;
    }

    /** The activation Hugging Face names {@code name}, or null. */
    public static Activation named(String name) {
        return Arrays.stream(values()).filter(a -> a.hfNames.contains(name)).findFirst().orElse(null);
    }

    /** Every Hugging Face name of every activation. */
    public static List<String> hfNames() {
        return Arrays.stream(values()).flatMap(a -> a.hfNames.stream()).toList();
    }

    /**
     * The activation a config field names ({@code absent} when the field is not there); an unknown name
     * is a problem collected in {@code f}, listing the names peft4j reads, and gives null.
     */
    public static Activation read(ConfigFields f, String field, Activation absent) {
        String name = f.string(field, absent.hfName());
        Activation a = named(name);
        if (a == null) {
            f.problem(field + " = '" + name + "' is not supported; valid: " + names());
        }
        return a;
    }

    /** Every name peft4j reads, quoted, for messages: {@code 'gelu', 'gelu_new', ...}. */
    public static String names() {
        return "'" + String.join("', '", hfNames()) + "'";
    }

    public String hfName() {
        return hfNames.get(0);
    }

    public NDArray apply(NDArray x) {
        return switch (this) {
            case GELU -> Functional.gelu(x);
            case GELU_TANH -> Functional.geluTanh(x);
            case SILU -> Functional.silu(x);
        };
    }
}
