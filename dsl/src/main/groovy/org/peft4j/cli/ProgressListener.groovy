package org.peft4j.cli

import me.tongfei.progressbar.ConsoleProgressBarConsumer
import me.tongfei.progressbar.ProgressBar
import me.tongfei.progressbar.ProgressBarBuilder
import me.tongfei.progressbar.ProgressBarStyle
import org.peft4j.run.MetricFormat
import org.peft4j.train.StepInfo
import org.peft4j.train.TrainingListener

/**
 * Shows a run's progress: a progress bar (step/total, loss, lr, tokens/s, ETA) on a terminal, plain log
 * lines about every 5% of the steps otherwise, so a CI log or a redirected file stays readable.
 */
class ProgressListener implements TrainingListener {

    private final PrintWriter out
    private final boolean terminal
    private ProgressBar bar
    private long started
    private final boolean everyStep
    private int every = 1

    ProgressListener(PrintWriter out, boolean terminal = Terminal.interactive(), boolean everyStep = false) {
        this.out = out
        this.terminal = terminal
        this.everyStep = everyStep
    }

    @Override
    void onPhase(String message) {
        say("» ${message}")
    }

    @Override
    void onTrainStart(int totalSteps) {
        started = System.nanoTime()
        every = everyStep ? 1 : Math.max(1, (int) Math.ceil(totalSteps / 20d))
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName('train').setInitialMax(totalSteps)
                    .setStyle(barStyle(Terminal.colors())).setUpdateIntervalMillis(250)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).build()
        } else {
            say("» training ${totalSteps} step${totalSteps == 1 ? '' : 's'}")
        }
    }

    /** The bar in colour only where colours are wanted; without, it is redrawn with a carriage return alone. */
    static ProgressBarStyle barStyle(boolean colors) {
        colors ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.UNICODE_BLOCK
    }

    @Override
    void onStep(StepInfo s) {
        String stats = String.format('loss %.4f  lr %.2e  %,.0f tok/s', s.loss(), s.lr(), s.tokensPerSecond())
        if (bar != null) {
            bar.maxHint(s.totalSteps())
            bar.stepTo(s.step())
            bar.extraMessage = stats
        } else if (s.step() % every == 0 || s.step() == s.totalSteps()) {
            double elapsed = (System.nanoTime() - started) / 1e9
            double eta = elapsed / s.step() * (s.totalSteps() - s.step())
            say(String.format('step %d/%d (%3.0f%%)  epoch %d  %s  eta %s', s.step(), s.totalSteps(),
                    100d * s.step() / s.totalSteps(), s.epoch(), stats, RunCommand.duration(eta)))
        }
    }

    @Override
    void onEval(String split, String when, Map<String, Double> metrics) {
        say("» ${split} ${when}: " + metrics.collect { k, v -> "${k} ${MetricFormat.format(k, v)}" }.join('  '))
    }

    @Override
    void onTrainEnd() {
        bar?.close()
        bar = null
    }

    /** Phase lines go above the bar: the bar redraws itself on its next step. */
    private void say(String line) {
        if (bar != null) {
            System.err.print('\r')
        }
        out.println(line)
        out.flush()
    }
}
