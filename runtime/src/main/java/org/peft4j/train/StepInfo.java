package org.peft4j.train;

/**
 * One finished optimizer step.
 *
 * @param step            1-based optimizer step
 * @param totalSteps      planned optimizer steps
 * @param epoch           1-based epoch
 * @param loss            mean training loss over the step's examples
 * @param lr              learning rate used for the step
 * @param tokens          non-padding tokens processed in the step
 * @param tokensPerSecond non-padding tokens per second since training began
 * @param seconds         wall seconds the step took
 * @param commSeconds     of those, the seconds spent in the workers' collectives (0 for a single process)
 */
public record StepInfo(int step, int totalSteps, int epoch, double loss, double lr, long tokens,
                       double tokensPerSecond, double seconds, double commSeconds) {

    /** A step of a single process, which has no collectives. */
    public StepInfo(int step, int totalSteps, int epoch, double loss, double lr, long tokens, double tokensPerSecond,
                    double seconds) {
        this(step, totalSteps, epoch, loss, lr, tokens, tokensPerSecond, seconds, 0);
    }
}
