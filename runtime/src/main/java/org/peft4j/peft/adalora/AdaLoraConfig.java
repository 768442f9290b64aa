package org.peft4j.peft.adalora;

import org.peft4j.config.ConfigException;
import org.peft4j.peft.AdapterConfig;
import org.peft4j.peft.PeftType;
import org.peft4j.peft.TargetSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * AdaLoRA settings (Zhang et al., ICLR 2023, arXiv 2303.10512). Each adapted matrix gets
 * ΔW = P Λ Q (Eq. 3) with {@code initR} triplets; a global budget of b(t) triplets over all
 * matrices shrinks from b0 = initR·n to b_T = targetR·n on a cubic schedule (Eq. 12), pruning the
 * triplets with the lowest importance (Eq. 8–11). Validated once, in the constructor; every
 * problem is reported together, each naming the field, the value and the fix.
 *
 * <p>{@code orthRegKind} defaults to {@link OrthRegKind#PAPER} (Eq. 4, squared Frobenius norms
 * summed over matrices) because that is the formula the paper states and analyses; PEFT's variant
 * (non-squared norms averaged over matrices) is much smaller for the same γ, so a γ tuned for one is
 * not right for the other. Choose {@link OrthRegKind#PEFT} to reproduce a PEFT run.
 *
 * <p>Defaults, chosen by measurement on an 8-class topic task ({@code recipes/data/mail-topics}:
 * MiniLM, query/value, initR 12 → targetR 8 against LoRA r 8, i.e. 96 triplets each at the end;
 * 4 epochs of batch 32 = 104 optimizer steps; {@code recipes/experiments/topics-benchmark.sh}) so
 * that AdaLoRA keeps up with LoRA of the same final rank at learning rates 5e-4 and 2e-3 without
 * tuning. With all of them, over seeds 42, 43 and 44 (test accuracy, mean ± sample standard
 * deviation): at 5e-4 LoRA 0.674 ± 0.028 against AdaLoRA 0.679 ± 0.017; at 2e-3 LoRA
 * 0.777 ± 0.013 against AdaLoRA 0.797 ± 0.007. Each one, and the figure it was chosen on:
 * <ul>
 *   <li>{@code lambdaLrRatio} 64: Λ starts at zero and, under Adam, each λ moves by about the
 *       learning rate per step, while a LoRA B column (also zero at first) moves by that much in
 *       each of its d entries. At the optimizer's own rate the singular values stayed near 0.015
 *       after a run at 5e-4 (LoRA's top ones: 0.6–1.0), so the adapter did next to nothing: test
 *       accuracy 0.601 against LoRA's 0.706 (seed 42), with the scores so noisy that 87 pruned
 *       triplets came back at later allocations. λ gets a rate of its own, as LoRA+ (Hayou et al.
 *       2024) gives the zero-initialised B a rate 16× A's; at 5e-4 ratio 16 reached 0.687 and 64
 *       reached 0.698, and 64 kept pace at 2e-3 (0.803 against LoRA's 0.782; seed 42 each).</li>
 *   <li>{@code orthReg} 0: with PEFT's N(0, 0.02²) start, P and Q are far from orthonormal, and the
 *       penalty's gradient on them exceeds the task's (which is proportional to the small λ);
 *       Adam's per-entry normalisation then lets the penalty alone steer P and Q. γ = 0.1 and even
 *       0.01 (paper form) kept the training loss far above γ = 0 (1.97 and 1.92 against 1.56
 *       after 56 of 104 steps at 5e-4). Long runs, the paper's setting, can turn it on.</li>
 *   <li>tinit, tfinal, deltaT {@link #AUTO}: 10 % of T before the first allocation (scores need a
 *       few EMA time constants, 1 / (1 − β) ≈ 7 steps, to settle), 20 % at the end with the
 *       mask fixed (the paper and PEFT's example spend a similar share), and 20 allocations in
 *       between, so that fixed step counts never outlast a short run or starve a long one. At
 *       T = 104 that is tinit 10, tfinal 20, deltaT 3, and 0–2 pruned triplets per benchmark run
 *       came back at a later allocation (87 with λ at the optimizer's rate, above).</li>
 *   <li>β1 = β2 = 0.85, the paper's and PEFT's values: not varied here.</li>
 *   <li>initR 12, targetR 8, α 8, dropout 0: PEFT's defaults, not varied here (the benchmark's
 *       recipe sets α 16 and dropout 0.05, as its LoRA side does).</li>
 * </ul>
 *
 * @param initR         initial rank per matrix (PEFT {@code init_r}, default 12)
 * @param targetR       average final rank per matrix (PEFT {@code target_r}, default 8); b_T = targetR·n
 * @param tinit         warm-up steps before any pruning (PEFT {@code tinit}); {@link #AUTO}: 10 % of T
 * @param tfinal        final steps with the mask frozen (PEFT {@code tfinal}); {@link #AUTO}: 20 % of T
 * @param deltaT        steps between two budget allocations (PEFT {@code deltaT}); {@link #AUTO}: 20 allocations
 * @param beta1         EMA factor of the smoothed sensitivity Ī (Eq. 9)
 * @param beta2         EMA factor of the uncertainty Ū (Eq. 10)
 * @param orthReg       γ, the weight of the orthogonal regularizer (PEFT {@code orth_reg_weight}); 0 turns it off
 * @param totalSteps    T, optimizer steps of the run; 0 = take the run's step count later ({@link #withTotalSteps})
 * @param alpha         scaling numerator: the update is scaled by α / ranknum (PEFT {@code lora_alpha})
 * @param dropout       dropout on the adapter's input
 * @param targets       module names (whole path or dotted suffix), as for LoRA; none (and no regex): the model
 *                      family's defaults, filled in by {@link #withDefaultTargets} before the adapter is made
 * @param targetRegex   alternatively a regex over the whole module path (null when unused)
 * @param modulesToSave modules trained in full and saved with the adapter
 * @param orthRegKind   which penalty R is used
 * @param lambdaLrRatio λ's learning rate over the optimizer's (P and Q train at the optimizer's)
 */
public record AdaLoraConfig(int initR, int targetR, int tinit, int tfinal, int deltaT, double beta1, double beta2,
                            double orthReg, int totalSteps, double alpha, double dropout, List<String> targets,
                            String targetRegex, List<String> modulesToSave, OrthRegKind orthRegKind,
                            double lambdaLrRatio) implements AdapterConfig {

    /** tinit, tfinal or deltaT left to the run: a fixed share of T once T is known (see {@link #withTotalSteps}). */
    public static final int AUTO = -1;
    /** Share of T spent before the first allocation (AUTO tinit). */
    public static final double TINIT_SHARE = 0.1;
    /** Share of T with the mask fixed at the end (AUTO tfinal). */
    public static final double TFINAL_SHARE = 0.2;
    /** Allocations over the budgeting phase (AUTO deltaT = phase / this, at least 1). */
    public static final int ALLOCATIONS = 20;
    /** λ's learning rate over the optimizer's, by default (see the class comment for why). */
    public static final double LAMBDA_LR_RATIO = 64;

    public AdaLoraConfig {
        if (totalSteps > 0) {
            // T is known: an AUTO phase becomes its share of T (floors, so tinit + tfinal < T for T >= 1)
            tinit = tinit == AUTO ? (int) (TINIT_SHARE * totalSteps) : tinit;
            tfinal = tfinal == AUTO ? (int) (TFINAL_SHARE * totalSteps) : tfinal;
            deltaT = deltaT == AUTO && tinit >= 0 && tfinal >= 0
                    ? Math.max(1, (totalSteps - tinit - tfinal) / ALLOCATIONS) : deltaT;
        }
        targets = targets == null ? List.of() : List.copyOf(targets);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        ConfigException.throwIfAny(problems(initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthReg, totalSteps,
                alpha, dropout, targets, targetRegex, orthRegKind, lambdaLrRatio));
    }

    /** The settings PEFT's files hold, with λ trained at the optimizer's own rate. */
    public AdaLoraConfig(int initR, int targetR, int tinit, int tfinal, int deltaT, double beta1, double beta2,
                         double orthReg, int totalSteps, double alpha, double dropout, List<String> targets,
                         String targetRegex, List<String> modulesToSave, OrthRegKind orthRegKind) {
        this(initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthReg, totalSteps, alpha, dropout, targets,
                targetRegex, modulesToSave, orthRegKind, 1);
    }

    /**
     * A builder starting from PEFT's init_r 12, target_r 8, β1 = β2 = 0.85, lora_alpha 8, dropout 0,
     * with the schedule {@link #AUTO}, γ = 0, λ's learning rate {@value #LAMBDA_LR_RATIO}× the
     * optimizer's, and orthRegKind PAPER (see the class comment for why these differ from PEFT's).
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The same settings with T fixed to the run's optimizer steps; as with every config whose T is
     * known, each {@link #AUTO} phase becomes a number of steps: tinit = ⌊{@value #TINIT_SHARE}·T⌋,
     * tfinal = ⌊{@value #TFINAL_SHARE}·T⌋, deltaT = max(1, ⌊(T − tinit − tfinal) / {@value #ALLOCATIONS}⌋).
     * Validates again (tinit + tfinal &lt; T).
     */
    public AdaLoraConfig withTotalSteps(int steps) {
        return new AdaLoraConfig(initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthReg, steps, alpha, dropout,
                targets, targetRegex, modulesToSave, orthRegKind, lambdaLrRatio);
    }

    /**
     * This configuration, or, when it names no targets, the same with {@code defaults}: the model
     * family's AdaLoRA default targets, as PEFT fills an empty target_modules.
     */
    public AdaLoraConfig withDefaultTargets(List<String> defaults) {
        return targeting().choosesNone() ? new AdaLoraConfig(initR, targetR, tinit, tfinal, deltaT, beta1, beta2,
                orthReg, totalSteps, alpha, dropout, defaults, targetRegex, modulesToSave, orthRegKind, lambdaLrRatio)
                : this;
    }

    /** Whether a phase is still {@link #AUTO} (T not known yet). */
    public boolean scheduleResolved() {
        return tinit != AUTO && tfinal != AUTO && deltaT != AUTO;
    }

    @Override
    public PeftType peftType() {
        return PeftType.ADALORA;
    }

    /** The targets (names or a regex), as {@link org.peft4j.peft.TargetMatcher} reads them for every method. */
    @Override
    public TargetSpec targeting() {
        return TargetSpec.of(targets, targetRegex);
    }

    private static List<String> problems(int initR, int targetR, int tinit, int tfinal, int deltaT, double beta1,
                                         double beta2, double orthReg, int totalSteps, double alpha, double dropout,
                                         List<String> targets, String targetRegex, OrthRegKind kind,
                                         double lambdaLrRatio) {
        List<String> p = new ArrayList<>();
        if (initR < 1) {
            p.add("adalora.initR = " + initR + " must be >= 1; set initR to about 1.5 × targetR (PEFT default 12)");
        }
        if (targetR < 1 || targetR > initR) {
            p.add("adalora.targetR = " + targetR + " must be in [1, initR = " + initR
                    + "]; the budget only shrinks, so lower targetR or raise initR");
        }
        if (tinit < AUTO) {
            p.add("adalora.tinit = " + tinit + " must be >= 0 (or AUTO = -1: 10% of the steps); set it to the warm-up"
                    + " steps before pruning starts");
        }
        if (tfinal < AUTO) {
            p.add("adalora.tfinal = " + tfinal + " must be >= 0 (or AUTO = -1: 20% of the steps); set it to the final"
                    + " steps with a frozen mask");
        }
        if (deltaT < 1 && deltaT != AUTO) {
            p.add("adalora.deltaT = " + deltaT + " must be >= 1 (or AUTO = -1: 20 allocations); it is the number of"
                    + " steps between allocations (e.g. 10)");
        }
        if (!(beta1 > 0 && beta1 < 1)) {
            p.add("adalora.beta1 = " + beta1 + " must be in (0, 1); the paper and PEFT use 0.85");
        }
        if (!(beta2 > 0 && beta2 < 1)) {
            p.add("adalora.beta2 = " + beta2 + " must be in (0, 1); the paper and PEFT use 0.85");
        }
        if (!(orthReg >= 0) || Double.isInfinite(orthReg)) {
            p.add("adalora.orthReg = " + orthReg + " must be a finite value >= 0; 0 turns the regularizer off, the paper uses 0.1");
        }
        if (totalSteps < 0) {
            p.add("adalora.totalSteps = " + totalSteps + " must be >= 0; 0 means the run's number of optimizer steps");
        }
        if (!(lambdaLrRatio > 0) || Double.isInfinite(lambdaLrRatio)) {
            p.add("adalora.lambdaLrRatio = " + lambdaLrRatio + " must be a finite value > 0; it multiplies the"
                    + " learning rate of the singular values λ (1 trains them at the optimizer's rate)");
        }
        if (totalSteps > 0 && tinit >= 0 && tfinal >= 0 && (long) tinit + tfinal >= totalSteps) {
            p.add("adalora.tinit + adalora.tfinal = " + tinit + " + " + tfinal + " = " + ((long) tinit + tfinal)
                    + " must be < totalSteps = " + totalSteps + " to leave a budgeting phase; lower tinit or tfinal"
                    + " (e.g. tinit " + totalSteps / 10 + ", tfinal " + totalSteps / 5 + ") or train for more steps");
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            p.add("adalora.alpha = " + alpha + " must be a finite value > 0 (PEFT's lora_alpha; its default is 8)");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            p.add("adalora.dropout = " + dropout + " must be in [0, 1) (typical: 0.05–0.1)");
        }
        if (targetRegex != null) {
            try {
                Pattern.compile(targetRegex);
            } catch (PatternSyntaxException e) {
                p.add("adalora.targetRegex '" + targetRegex + "' does not compile: " + e.getDescription());
            }
        }
        if (kind == null) {
            p.add("adalora.orthRegKind is missing; valid: " + List.of(OrthRegKind.values()));
        }
        return p;
    }

    /** Builds a config from defaults; {@link #build()} validates. */
    public static final class Builder {
        private int initR = 12;
        private int targetR = 8;
        private int tinit = AUTO;
        private int tfinal = AUTO;
        private int deltaT = AUTO;
        private double beta1 = 0.85;
        private double beta2 = 0.85;
        private double orthReg;
        private int totalSteps;
        private double alpha = 8;
        private double dropout;
        private List<String> targets = List.of();
        private String targetRegex;
        private List<String> modulesToSave = List.of();
        private OrthRegKind orthRegKind = OrthRegKind.PAPER;
        private double lambdaLrRatio = LAMBDA_LR_RATIO;

        public Builder initR(int v) { initR = v; return this; }
        public Builder targetR(int v) { targetR = v; return this; }
        public Builder tinit(int v) { tinit = v; return this; }
        public Builder tfinal(int v) { tfinal = v; return this; }
        public Builder deltaT(int v) { deltaT = v; return this; }
        public Builder beta1(double v) { beta1 = v; return this; }
        public Builder beta2(double v) { beta2 = v; return this; }
        public Builder orthReg(double v) { orthReg = v; return this; }
        public Builder totalSteps(int v) { totalSteps = v; return this; }
        public Builder alpha(double v) { alpha = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder targets(List<String> v) { targets = v; return this; }
        public Builder targetRegex(String v) { targetRegex = v; return this; }
        public Builder modulesToSave(List<String> v) { modulesToSave = v; return this; }
        public Builder orthRegKind(OrthRegKind v) { orthRegKind = v; return this; }
        public Builder lambdaLrRatio(double v) { lambdaLrRatio = v; return this; }

        public AdaLoraConfig build() {
            return new AdaLoraConfig(initR, targetR, tinit, tfinal, deltaT, beta1, beta2, orthReg, totalSteps, alpha,
                    dropout, targets, targetRegex, modulesToSave, orthRegKind, lambdaLrRatio);
        }
    }
}
