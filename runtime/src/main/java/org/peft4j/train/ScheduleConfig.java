package org.peft4j.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Learning-rate schedule: a linear warmup from 0, then constant, linear decay to 0 or cosine decay to 0.
 *
 * @param kind   shape after warmup
 * @param warmup warmup length: a fraction of all optimizer steps when &lt; 1, else a step count
 */
public record ScheduleConfig(Kind kind, double warmup) {

    public enum Kind { CONSTANT, LINEAR, COSINE }

    public static ScheduleConfig linear(double warmup) {
        return new ScheduleConfig(Kind.LINEAR, warmup);
    }

    public int warmupSteps(int totalSteps) {
        return warmup < 1 ? (int) Math.round(warmup * totalSteps) : (int) warmup;
    }

    public List<String> validate() {
        List<String> p = new ArrayList<>();
        if (!(warmup >= 0)) {
            p.add("schedule.warmup = " + warmup + " must be >= 0 (a fraction < 1 of all steps, or a step count)");
        } else if (warmup >= 1 && warmup != Math.floor(warmup)) {
            p.add("schedule.warmup = " + warmup + " is neither a fraction < 1 nor a whole step count");
        }
        return p;
    }
}
