package org.peft4j.nn;

import ai.djl.ndarray.types.DataType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model as text, the way PyTorch's {@code print(model)} and PEFT's {@code print_trainable_parameters()}
 * show it: one line per module with its Hugging Face name, class and parameter shapes (a trainable one marked
 * {@code *}), runs of identical siblings folded into one ({@code (0-5): 6 × BertLayer}), and the trainable
 * count at the end. A tree still longer than the line limit keeps its head and its tail.
 */
public final class ModuleTree {

    private ModuleTree() {
    }

    /** The tree below {@code root}, at most {@code maxLines} lines before the count (0: no limit). */
    public static String format(Module root, int maxLines) {
        List<String> lines = new ArrayList<>();
        lines.add(root.getClass().getSimpleName() + params(root));
        children(root, "  ", lines);
        if (maxLines > 0 && lines.size() > maxLines) {
            int head = maxLines * 2 / 3;
            int tail = maxLines - head - 1;
            List<String> cut = new ArrayList<>(lines.subList(0, head));
            cut.add("  … " + (lines.size() - head - tail) + " lines not shown (ModuleTree.format(model, 0) shows all)");
            cut.addAll(lines.subList(lines.size() - tail, lines.size()));
            lines = cut;
        }
        StringBuilder sb = new StringBuilder();
        lines.forEach(l -> sb.append(l).append('\n'));
        boolean marked = root.namedParameters().values().stream().anyMatch(Parameter::trainable);
        return sb.append(marked ? "(* trainable)\n" : "").append(count(root)).toString();
    }

    /** PEFT's {@code print_trainable_parameters()} line: trainable and all parameters, and the share. */
    public static String count(Module root) {
        long all = 0;
        long trainable = 0;
        for (Parameter p : root.namedParameters().values()) {
            long n = p.value().getShape().size();
            all += n;
            trainable += p.trainable() ? n : 0;
        }
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable, all, all == 0 ? 0d : 100d * trainable / all);
    }

    private static void children(Module m, String indent, List<String> out) {
        List<Map.Entry<String, Module>> kids = new ArrayList<>(m.children().entrySet());
        int i = 0;
        while (i < kids.size()) {
            String shape = signature(kids.get(i).getValue());
            int j = i + 1;
            while (j < kids.size() && signature(kids.get(j).getValue()).equals(shape)) {
                j++;
            }
            Module first = kids.get(i).getValue();
            String name = kids.get(i).getKey();
            if (j - i > 1) {
                // PyTorch folds a run of identical blocks the same way: the first stands for all of them
                out.add(indent + "(" + name + "-" + kids.get(j - 1).getKey() + "): " + (j - i) + " × "
                        + first.getClass().getSimpleName() + params(first));
            } else {
                out.add(indent + "(" + name + "): " + first.getClass().getSimpleName() + params(first));
            }
            children(first, indent + "  ", out);
            i = j;
        }
    }

    /** The module's class, its parameters' shapes and trainability, and its children's, recursively. */
    private static String signature(Module m) {
        StringBuilder sb = new StringBuilder(m.getClass().getName()).append(params(m)).append('{');
        m.children().forEach((k, c) -> sb.append(k).append('=').append(signature(c)).append(';'));
        return sb.append('}').toString();
    }

    /** The module's own parameters: "(weight [384, 384]*, bias [384])", or "" without any. */
    private static String params(Module m) {
        if (m.parameters().isEmpty()) {
            return "";
        }
        List<String> each = new ArrayList<>();
        m.parameters().forEach((k, p) -> {
            DataType t = p.value().getDataType();
            each.add(k + " " + p.value().getShape().toString().replace("(", "[").replace(")", "]")
                    + (t == DataType.FLOAT32 ? "" : " " + t.name().toLowerCase(Locale.ROOT))
                    + (p.trainable() ? "*" : ""));
        });
        return "(" + String.join(", ", each) + ")";
    }
}
