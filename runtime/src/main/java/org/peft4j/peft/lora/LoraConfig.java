package org.peft4j.peft.lora;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA settings (Hu et al. 2021): ΔW = (α / r) · B A with A: r×in, B: out×r, B = 0 at start.
 *
 * @param r             rank of the update
 * @param alpha         scaling numerator; the update is scaled by α / r
 * @param dropout       dropout on the adapter's input (0 adds no op)
 * @param targets       module names matched as the whole path or its last dotted part(s)
 *                      ({@code "query"} matches {@code encoder.layer.0.attention.self.query})
 * @param targetRegex   alternatively, a regex matched against the whole module path (null when unused)
 * @param modulesToSave modules trained fully and saved with the adapter (e.g. the {@code classifier} head)
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targets, String targetRegex,
                         List<String> modulesToSave) {

    public LoraConfig {
        targets = targets == null ? List.of() : List.copyOf(targets);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    public static LoraConfig of(int r, double alpha, double dropout, List<String> targets, List<String> modulesToSave) {
        return new LoraConfig(r, alpha, dropout, targets, null, modulesToSave);
    }

    public double scaling() {
        return alpha / r;
    }

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (r < 1) {
            p.add("lora.r = " + r + " must be >= 1 (typical: 4, 8, 16)");
        }
        if (!(alpha > 0)) {
            p.add("lora.alpha = " + alpha + " must be > 0 (typical: 2 × r)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            p.add("lora.dropout = " + dropout + " must be in [0, 1) (typical: 0.05–0.1)");
        }
        if (targets.isEmpty() && targetRegex == null) {
            p.add("lora.target is missing: name the modules to adapt, e.g. target 'query', 'value'");
        }
        if (targetRegex != null) {
            try {
                Pattern.compile(targetRegex);
            } catch (PatternSyntaxException e) {
                p.add("lora.target regex '" + targetRegex + "' does not compile: " + e.getDescription());
            }
        }
        return p;
    }
}
