package org.peft4j.peft.adalora;

/**
 * The global triplet budget b(t) of Eq. 12 and when it is applied. With b0 = initR·n and
 * b_T = targetR·n (n adapted matrices):
 * <pre>
 *   b(t) = b0                                                  t &lt; tinit
 *        = b_T + (b0 − b_T) · (1 − (t − tinit) / (T − tinit − tfinal))³   tinit ≤ t &lt; T − tfinal
 *        = b_T                                                 otherwise
 * </pre>
 * The cubic value is truncated to an integer, as PEFT's {@code int(...)} does (the value is
 * non-negative, so this is the floor): the budget reaches b_T a little earlier than a rounding
 * would, and stays an exact integer that both implementations agree on.
 *
 * <p>Steps are counted as the optimizer steps of the run, the first being t = 1.
 */
public final class BudgetSchedule {

    private final int b0;
    private final int bT;
    private final int tinit;
    private final int tfinal;
    private final int deltaT;
    private final int total;

    /** @param matrices n, the number of adapted matrices */
    public BudgetSchedule(AdaLoraConfig config, int matrices) {
        if (config.totalSteps() <= 0) {
            throw new IllegalArgumentException("adalora.totalSteps is 0 (not resolved); give the run's optimizer steps"
                    + " with AdaLoraConfig.withTotalSteps(steps) before building the schedule");
        }
        this.b0 = config.initR() * matrices;
        this.bT = config.targetR() * matrices;
        this.tinit = config.tinit();
        this.tfinal = config.tfinal();
        this.deltaT = config.deltaT();
        this.total = config.totalSteps();
    }

    /** b(t), Eq. 12. */
    public int budget(int t) {
        if (t < tinit) {
            return b0;
        }
        if (t >= total - tfinal) {
            return bT;
        }
        double c = 1.0 - (double) (t - tinit) / (total - tinit - tfinal);
        return (int) ((b0 - bT) * Math.pow(c, 3) + bT);
    }

    /**
     * Whether the mask is recomputed after step t: every deltaT-th step of the budgeting phase
     * (tinit &lt; t &lt; T − tfinal, as PEFT's {@code budget_schedule}), and once more at t = T − tfinal
     * to reach b_T exactly; after that the mask is frozen (PEFT's {@code force_mask} step).
     */
    public boolean maskDue(int t) {
        if (t == total - tfinal) {
            return true;
        }
        return t > tinit && t < total - tfinal && t % deltaT == 0;
    }

    /** Whether the mask is fixed after step t: past the last allocation at T − tfinal (PEFT's {@code mask_using_rank_pattern}). */
    public boolean maskFixed(int t) {
        return t > total - tfinal;
    }

    /** Whether importance scores still matter at step t: up to the last masking step T − tfinal. */
    public boolean scoring(int t) {
        return t <= total - tfinal;
    }

    public int initialBudget() {
        return b0;
    }

    public int finalBudget() {
        return bT;
    }

    public int totalSteps() {
        return total;
    }
}
