package org.peft4j.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How to pick tokens and when to stop.
 *
 * @param maxNewTokens  stop after this many new tokens
 * @param temperature   0 for greedy decoding; otherwise logits are divided by it before sampling
 * @param topK          sample among the k most likely tokens only (0: no limit)
 * @param topP          nucleus sampling (Holtzman et al. 2020): the smallest set of most likely
 *                      tokens whose probability reaches p (1: no limit)
 * @param stopStrings   stop when the generated text contains one; the text is cut before it
 * @param stopTokenIds  stop after one of these tokens (end of turn, EOS); it is not part of the text
 * @param useCache      keep keys and values of past positions (one new token per step) instead of
 *                      re-running the whole sequence every step
 * @param seed          seeds the sampler, so a sampled generation can be repeated
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, List<String> stopStrings,
                               Set<Integer> stopTokenIds, boolean useCache, long seed) {

    public GenerationConfig {
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
        List<String> p = new ArrayList<>();
        if (maxNewTokens < 1) {
            p.add("generate.maxNewTokens = " + maxNewTokens + " must be >= 1");
        }
        if (!(temperature >= 0)) {
            p.add("generate.temperature = " + temperature + " must be >= 0 (0: greedy)");
        }
        if (topK < 0) {
            p.add("generate.topK = " + topK + " must be >= 0 (0: off)");
        }
        if (!(topP > 0 && topP <= 1)) {
            p.add("generate.topP = " + topP + " must be in (0, 1] (1: off)");
        }
        if (stopStrings.stream().anyMatch(String::isEmpty)) {
            p.add("generate.stop strings must not be empty");
        }
        org.peft4j.config.ConfigException.throwIfAny(p);
    }

    /** Greedy decoding with the KV cache. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, 0, 0, 1, List.of(), Set.of(), true, 0);
    }

    public GenerationConfig withSampling(double temperature, int topK, double topP, long seed) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, stopStrings, stopTokenIds, useCache, seed);
    }

    public GenerationConfig withStops(List<String> strings, Set<Integer> tokenIds) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, strings, tokenIds, useCache, seed);
    }

    public GenerationConfig withCache(boolean on) {
        return new GenerationConfig(maxNewTokens, temperature, topK, topP, stopStrings, stopTokenIds, on, seed);
    }

    public boolean greedyDecoding() {
        return temperature == 0;
    }
}
