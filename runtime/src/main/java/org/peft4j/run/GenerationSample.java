package org.peft4j.run;

/**
 * A recipe's sample prompt and the model's greedy answer to it before and after training.
 *
 * @param before null when the run did not evaluate before training (or resumed)
 */
public record GenerationSample(String prompt, String before, String after) {
}
