package org.peft4j.run;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.EmbeddedModels;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.AdapterModel;
import org.peft4j.peft.adalora.AdaLoraInjector;
import org.peft4j.peft.adalora.AdaLoraModel;
import org.peft4j.peft.adalora.BudgetSchedule;
import org.peft4j.peft.lora.LoraInjector;
import org.peft4j.tensor.Backend;
import org.peft4j.train.Trainer;
import org.peft4j.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The resolved pieces of a run, freed together: the task's model and data, its adapter, the engine. */
final class RunSession implements AutoCloseable {
    final RunConfig config;
    final TrainingListener listener;
    final NDManager manager;
    final Path modelDir;
    final TaskRun<?> task;
    final Module model;
    /** The run's adapter (LoRA or AdaLoRA), or null when the whole model trains. */
    final AdapterModel adapter;
    /** The adapter when it is AdaLoRA, whose budget the plan and the summary report; else null. */
    final AdaLoraModel adalora;

    private RunSession(RunConfig config, TrainingListener listener) throws IOException {
        this.config = config;
        this.listener = listener;
        Backend backend = Backend.start(config.backend());
        this.manager = backend.manager();
        long seed = config.train().seed();
        if (config.model().source() != null) {
            listener.onPhase("resolving embedded model '" + config.model().source() + "'");
            this.modelDir = EmbeddedModels.resolve(config.model().source());
        } else {
            this.modelDir = config.model().path();
        }
        listener.onPhase("loading " + modelDir);
        // the task's new weights (a head, or a model from scratch) draw from seed; adapters from seed + 1
        backend.seed(seed);
        this.task = switch (config.model().task()) {
            case CAUSAL_LM -> new CausalLmRun(config, modelDir, manager, seed, listener);
            case EMBEDDING -> new EmbeddingRun(config, modelDir, manager, listener);
            case CLASSIFICATION -> new ClassificationRun(config, modelDir, manager, seed, listener);
        };
        this.model = task.model();
        backend.seed(seed + 1);
        AdapterModel lora = config.lora() == null ? null : LoraInjector.inject(model, config.lora(), manager);
        this.adalora = config.adalora() == null ? null : AdaLoraInjector.inject(model, config.adalora(), manager);
        this.adapter = lora != null ? lora : adalora;
        if (adapter == null) {
            model.setTrainable(true);
        }
        task.checkTrainable();
        HalfPrecision.apply(backend, model, listener);
    }

    static RunSession open(RunConfig config, TrainingListener listener) {
        try {
            return new RunSession(config, listener);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** The parameters that train, by path, in model order (the optimizer's order). */
    Map<String, Parameter> trainableByName() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> {
            if (p.trainable()) {
                out.put(k, p);
            }
        });
        return out;
    }

    List<Parameter> trainable() {
        return new ArrayList<>(trainableByName().values());
    }

    Plan plan() {
        List<String> trainableNames = new ArrayList<>(trainableByName().keySet());
        Map<String, Map<String, Long>> splits = task.splitStats();
        int batches = task.trainingData(config.train().batchSize(), config.train().seed()).batchesPerEpoch();
        int total = Trainer.totalSteps(config.train(), batches);
        List<String> adapted = adapter != null ? adapter.adaptedPaths() : List.of();
        return new Plan(modelDir + task.modelNote(), adapted, trainableNames,
                model.trainableParameterCount(), model.parameterCount(), splits,
                Trainer.stepsPerEpoch(batches, config.train().gradAccum()), total,
                adalora == null ? null : budgetCurve(total));
    }

    /** AdaLoRA's budget b(t) at the points where it changes shape, for the plan. */
    private String budgetCurve(int runSteps) {
        // resolving T validates tinit + tfinal < T against this run's steps, before anything trains
        BudgetSchedule b = adalora.resolveTotalSteps(runSteps).schedule();
        var c = adalora.config();
        int t = b.totalSteps();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%d triplets until step %d, cubic down to %d by step %d (masking every %d steps),"
                + " then fixed; T = %d%n", b.initialBudget(), c.tinit(), b.finalBudget(), t - c.tfinal(), c.deltaT(), t));
        sb.append("             b(t):");
        for (int k = 0; k <= 8; k++) {
            int step = Math.max(1, Math.round(k * t / 8f));
            sb.append(' ').append(step).append('→').append(b.budget(step));
        }
        return sb.toString();
    }

    Map<String, Map<String, Double>> evaluateAll(String when, TrainingListener to) {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        int bs = config.train().evalBatchSize();
        for (String split : task.evalSplits()) {
            listener.onPhase(task.evalPhase(split, when));
            out.put(split, task.evaluate(split, bs));
            to.onEval(split, when, out.get(split));
        }
        return out;
    }

    /** The adapter into {@code adapterDir}, or the whole model where its task keeps it; returns where. */
    Path save(Path runDir, Path adapterDir) throws IOException {
        String base = config.model().source() != null ? "sentence-transformers/all-MiniLM-L6-v2" : modelDir.toString();
        Path saved = adapterDir;
        if (adapter == null) {
            saved = task.saveFull(runDir, adapterDir);
        } else {
            adapter.save(adapterDir, task.peftTaskType(), base);
        }
        task.saveBeside(saved);
        return saved;
    }

    @Override
    public void close() {
        task.close();
        // parameters live in the engine's long-lived manager; free them with the run
        model.namedParameters().values().forEach(p -> p.value().close());
    }
}
