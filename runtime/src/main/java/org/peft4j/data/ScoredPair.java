package org.peft4j.data;

/**
 * Two texts with a similarity score, as in STS-style data.
 *
 * @param a     first text
 * @param b     second text
 * @param score their similarity; the cosine loss regresses cos(a, b) onto it, so usually in [0, 1] or [-1, 1]
 * @param line  1-based line in the source file
 */
public record ScoredPair(String a, String b, double score, long line) {
}
