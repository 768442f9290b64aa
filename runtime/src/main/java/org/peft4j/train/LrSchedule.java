package org.peft4j.train;

/**
 * Learning rate per optimizer step: linear warmup from 0 to the peak over the warmup steps, then
 * constant, linear decay to 0 at the last step, or half-cosine decay to 0 (as Hugging Face's
 * get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup).
 */
public final class LrSchedule {

    private final ScheduleConfig.Kind kind;
    private final double peak;
    private final int warmup;
    private final int total;

    public LrSchedule(ScheduleConfig config, double peak, int totalSteps) {
        this.kind = config.kind();
        this.peak = peak;
        this.total = Math.max(1, totalSteps);
        this.warmup = Math.min(config.warmupSteps(totalSteps), this.total);
    }

    /** The learning rate for 0-based optimizer step {@code step}. */
    public double lr(int step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        double progress = total == warmup ? 1 : (double) (step - warmup) / (total - warmup);
        switch (kind) {
            case CONSTANT:
                return peak;
            case LINEAR:
                return peak * Math.max(0, 1 - progress);
            case COSINE:
                return peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    public int warmupSteps() {
        return warmup;
    }
}
