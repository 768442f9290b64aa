package org.peft4j.run;

import ai.djl.ndarray.types.Shape;
import org.peft4j.config.ConfigException;
import org.peft4j.models.EmbeddedModels;
import org.peft4j.models.ModelSpec;
import org.peft4j.models.Registry;
import org.peft4j.models.core.ClassifierHead;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.lora.AdapterFiles;
import org.peft4j.peft.lora.LoraConfig;
import org.peft4j.peft.lora.LoraInjector;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The module tree of a model, for {@code peft4j inspect MODEL [--recipe R]}: every module's path
 * (its Hugging Face name), kind, weight shape and parameter count, and, given a LoRA
 * configuration, which modules it adapts and which it trains in full, matched exactly as
 * {@link LoraInjector} will match them.
 */
public final class ModelInspector {

    /** What a module is to a LoRA configuration. */
    public enum Role {
        NONE(""), TARGET("lora target"), SAVED("modules to save");

        private final String label;

        Role(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * One module.
     *
     * @param path        dotted path, "" for the root
     * @param kind        the module's class, e.g. Linear, Embedding, LayerNorm, BertLayer
     * @param weightShape the shape of its own {@code weight} parameter, or null when it has none
     * @param parameters  parameters in this module and all below it
     * @param role        what the given LoRA configuration does with it
     */
    public record Row(String path, String kind, Shape weightShape, long parameters, Role role) {
    }

    /**
     * The whole inspection.
     *
     * @param model             what was inspected (a name or a directory)
     * @param rows              every module in tree order, the root first
     * @param totalParameters   parameters of the whole model
     * @param adapterParameters parameters the LoRA configuration would train and save (0 without one)
     * @param problems          why the configuration does not fit the model (empty when it does)
     */
    public record Report(String model, List<Row> rows, long totalParameters, long adapterParameters,
                         List<String> problems) {

        public Report {
            rows = List.copyOf(rows);
            problems = List.copyOf(problems);
        }

        /** The rows with this role. */
        public List<Row> withRole(Role role) {
            return rows.stream().filter(r -> r.role() == role).toList();
        }

        /** A table for the terminal, one module per line, then the totals and any problem. */
        public String render() {
            int width = Math.max("module".length(), rows.stream().mapToInt(r -> r.path().length()).max().orElse(0));
            int kindWidth = Math.max("kind".length(), rows.stream().mapToInt(r -> r.kind().length()).max().orElse(0));
            String format = "%-" + width + "s  %-" + kindWidth + "s  %-14s %,13d%s%n";
            StringBuilder out = new StringBuilder();
            out.append(String.format("%-" + width + "s  %-" + kindWidth + "s  %-14s %13s%n", "module", "kind", "weight",
                    "parameters"));
            for (Row r : rows) {
                out.append(String.format(format, r.path().isEmpty() ? "(model)" : r.path(), r.kind(),
                        r.weightShape() == null ? "" : shape(r.weightShape()), r.parameters(),
                        r.role() == Role.NONE ? "" : "  <- " + r.role().label()));
            }
            out.append(String.format("%s: %,d parameters", model, totalParameters));
            if (!withRole(Role.TARGET).isEmpty() || !withRole(Role.SAVED).isEmpty()) {
                out.append(String.format("; LoRA adapts %d modules and saves %d; adapter: %,d parameters (%.2f%%)",
                        withRole(Role.TARGET).size(), withRole(Role.SAVED).size(), adapterParameters,
                        100.0 * adapterParameters / totalParameters));
            }
            out.append(System.lineSeparator());
            problems.forEach(p -> out.append("problem: ").append(p).append(System.lineSeparator()));
            return out.toString();
        }

        private static String shape(Shape s) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < s.dimension(); i++) {
                b.append(i == 0 ? "" : ", ").append(s.get(i));
            }
            return b.append(']').toString();
        }
    }

    private ModelInspector() {
    }

    /**
     * Inspects an embedded model ({@code "minilm"}, {@code "bge-small-en"}) or a Hugging Face directory of any family the
     * {@link Registry} knows, loaded for its family's first task (a BERT as a sequence classifier with
     * as many outputs as its {@code config.json} or checkpoint declares, a decoder as a causal LM).
     *
     * @param config a LoRA configuration whose targets to mark, or null
     */
    public static Report inspect(String model, LoraConfig config) throws IOException {
        return inspect(model, config, null);
    }

    /**
     * {@link #inspect(String, LoraConfig)} with a classifier's head as a recipe names it (BERT's pooler
     * is a module only under the Transformers head); null for the model's convention.
     */
    public static Report inspect(String model, LoraConfig config, ClassifierHead head) throws IOException {
        Path dir = ModelSpec.EMBEDDED.contains(model) ? EmbeddedModels.resolve(model) : Path.of(model);
        if (head == null && ModelSpec.EMBEDDED.contains(model)) {
            head = EmbeddedModels.conventionalHead(model);
        }
        Module root = (Module) Registry.load(dir, Registry.inspectionTask(dir, head));
        try {
            return inspect(root, model, config);
        } finally {
            // the parameters live in the engine's long-lived manager; an inspection keeps none of them
            root.namedParameters().values().forEach(p -> p.value().close());
        }
    }

    /** Inspects a model in memory; reads shapes only and changes nothing. */
    public static Report inspect(Module root, String name, LoraConfig config) {
        Map<String, Module> modules = root.namedModules();
        Set<String> targets = Set.of();
        Set<String> saved = Set.of();
        long adapter = 0;
        List<String> problems = new ArrayList<>();
        if (config != null) {
            try {
                targets = Set.copyOf(LoraInjector.matchTargets(modules, config));
                saved = LoraInjector.modulesToSave(root, config).keySet();
                adapter = AdapterFiles.expectedShapes(root, config).values().stream().mapToLong(Shape::size).sum();
            } catch (ConfigException e) {
                problems.addAll(e.problems());
            }
        }
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            Module m = e.getValue();
            Parameter w = m.parameters().get("weight");
            Role role = targets.contains(e.getKey()) ? Role.TARGET : saved.contains(e.getKey()) ? Role.SAVED : Role.NONE;
            rows.add(new Row(e.getKey(), m.getClass().getSimpleName(), w == null ? null : w.value().getShape(),
                    m.parameterCount(), role));
        }
        return new Report(name, rows, root.parameterCount(), adapter, problems);
    }
}
