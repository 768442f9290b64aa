package org.peft4j.peft;

import java.util.List;

/**
 * Which linear layers an adapter goes into, as PEFT's {@code target_modules} and its filters
 * ({@code check_target_module_exists}); {@link TargetMatcher} applies it to a model.
 *
 * @param names             module names matched as the whole path or its last dotted part(s)
 * @param regex             a regex over the whole module path (null when unused)
 * @param allLinear         every linear layer except the output head (PEFT's {@code "all-linear"})
 * @param exclude           module names (whole path or dotted suffix) never adapted
 * @param excludeRegex      a regex over the whole path of modules never adapted (null when unused)
 * @param layersToTransform only modules inside these layer indices (empty: all layers)
 * @param layersPattern     names of the layer list that carries the index (empty: any name followed by an index)
 */
public record TargetSpec(List<String> names, String regex, boolean allLinear, List<String> exclude,
                         String excludeRegex, List<Integer> layersToTransform, List<String> layersPattern) {

    public TargetSpec {
        names = names == null ? List.of() : List.copyOf(names);
        exclude = exclude == null ? List.of() : List.copyOf(exclude);
        layersToTransform = layersToTransform == null ? List.of() : List.copyOf(layersToTransform);
        layersPattern = layersPattern == null ? List.of() : List.copyOf(layersPattern);
    }

    /** Whether the spec chooses no module at all: no names, no regex, not all-linear (the model's defaults apply). */
    public boolean choosesNone() {
        return names.isEmpty() && regex == null && !allLinear;
    }

    /** Names and/or a regex, without filters. */
    public static TargetSpec of(List<String> names, String regex) {
        return new TargetSpec(names, regex, false, List.of(), null, List.of(), List.of());
    }
}
