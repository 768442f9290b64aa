package org.peft4j.embedding;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.peft4j.data.Batch;
import org.peft4j.data.PairBatches;
import org.peft4j.data.PairDataset;
import org.peft4j.data.PairJsonl;
import org.peft4j.data.RetrievalSet;
import org.peft4j.data.Tokenizer;
import org.peft4j.models.EmbeddedModels;
import org.peft4j.nn.Parameter;
import org.peft4j.peft.lora.LoraInjector;
import org.peft4j.peft.lora.LoraModel;
import org.peft4j.run.HalfPrecision;
import org.peft4j.run.MemoryStats;
import org.peft4j.run.Plan;
import org.peft4j.run.RunDirectory;
import org.peft4j.run.RunOptions;
import org.peft4j.tensor.Backend;
import org.peft4j.train.TrainingData;
import org.peft4j.train.LrSchedule;
import org.peft4j.train.Optimizer;
import org.peft4j.train.Trainer;
import org.peft4j.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an {@link EmbeddingRunConfig}, top to bottom: engine, encoder, adapter, data, evaluate,
 * train (the shared {@link Trainer} with an {@link EmbeddingObjective}), evaluate, save. The run
 * directory gets {@code metrics.jsonl}, {@code summary.json} and the adapter in PEFT's layout
 * (task type FEATURE_EXTRACTION, keys relative to the bare encoder as sentence-transformers loads it).
 */
public final class EmbeddingFineTune {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EmbeddingFineTune() {
    }

    /** Resolves model, adapter and data, and reports what a run would do; trains nothing. */
    public static Plan plan(EmbeddingRunConfig config, TrainingListener listener) {
        config.validated();
        try (Session s = new Session(config, listener)) {
            return s.plan();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** A run into {@code outDir} that evaluates before and after and keeps no recipe copy. */
    public static EmbeddingSummary run(EmbeddingRunConfig config, Path outDir, TrainingListener listener) {
        return run(config, new RunOptions(outDir, null, true), listener);
    }

    /**
     * Trains and writes the run directory: the recipe copy, {@code config.json}, {@code metrics.jsonl},
     * {@code summary.json} and the adapter. Resuming is not supported for embedding runs (they take minutes).
     */
    public static EmbeddingSummary run(EmbeddingRunConfig config, RunOptions options, TrainingListener listener) {
        long start = System.nanoTime();
        config.validated();
        if (options.resume()) {
            throw new IllegalArgumentException("resuming is not supported for embedding runs; start a new run directory");
        }
        try (RunDirectory dir = RunDirectory.open(options.outDir(), false);
             Session s = new Session(config, listener)) {
            Plan plan = s.plan();
            dir.copyRecipe(options.recipeFile());
            dir.writeJson("config.json", EmbeddingManifest.resolvedConfig(config, s.modelDir, plan));
            TrainingListener both = TrainingListener.all(listener, dir);
            Map<String, Map<String, Double>> before = options.evalBefore() ? s.evaluate("before", both) : Map.of();

            int total = plan.totalSteps();
            Optimizer optimizer = Optimizer.create(config.optimizer(), s.trainable());
            LrSchedule schedule = new LrSchedule(config.schedule(), config.optimizer().lr(), total);
            NonFiniteGradientSkip skip = new NonFiniteGradientSkip(s.trainable(), both);
            Trainer trainer = new Trainer(s.encoder.model(), new EmbeddingObjective(s.encoder, config.loss(),
                    config.temperature()), optimizer, config.train(), both, s.manager, null).withHook(skip);
            Trainer.Result result;
            try {
                result = trainer.fit(s.batchSource(), schedule, step -> s.evaluate("step " + step, both).getOrDefault("retrieval", Map.of()));
            } finally {
                optimizer.close();
            }

            Map<String, Map<String, Double>> after = s.evaluate("after", both);
            if (s.lora != null) {
                listener.onPhase("saving the adapter to " + dir.adapterDir());
                s.lora.save(dir.adapterDir(), "FEATURE_EXTRACTION",
                        config.embeddedModel() ? "sentence-transformers/all-MiniLM-L6-v2" : s.modelDir.toString());
            }
            List<Double> losses = result.losses();
            int tail = Math.max(1, losses.size() / 10);
            double lastLoss = losses.subList(losses.size() - tail, losses.size()).stream()
                    .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            EmbeddingSummary summary = new EmbeddingSummary(dir.path(), s.encoder.model().trainableParameterCount(),
                    s.encoder.model().parameterCount(), before, after, result.steps(),
                    losses.isEmpty() ? Double.NaN : losses.get(0), lastLoss, (System.nanoTime() - start) / 1e9,
                    result.seconds(), result.tokensPerSecond(), MemoryStats.peakRssBytes());
            ObjectNode json = summaryJson(summary, config, s, plan);
            json.put("skipped_steps", skip.skipped());
            dir.writeJson("summary.json", json);
            return summary;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private static ObjectNode summaryJson(EmbeddingSummary s, EmbeddingRunConfig c, Session session, Plan plan) {
        ObjectNode n = JSON.createObjectNode();
        n.put("run", c.name());
        n.put("task", "embedding");
        n.put("model", session.modelDir.toString());
        n.put("loss", c.loss().name());
        n.put("temperature", c.temperature());
        n.put("pooling", c.pooling().name());
        if (c.lora() != null) {
            n.put("lora_r", c.lora().r());
            n.set("lora_targets", JSON.valueToTree(c.lora().targets()));
        }
        n.set("train_data", JSON.valueToTree(session.train.stats()));
        n.put("trainable_params", s.trainableParams());
        n.put("total_params", s.totalParams());
        n.set("before", JSON.valueToTree(s.before()));
        n.set("after", JSON.valueToTree(s.after()));
        n.put("steps", s.steps());
        n.put("first_loss", s.firstLoss());
        n.put("last_loss", s.lastLoss());
        n.put("wall_seconds", s.wallSeconds());
        n.put("train_seconds", s.trainSeconds());
        n.put("tokens_per_second", s.tokensPerSecond());
        n.put("peak_rss_bytes", s.peakRssBytes());
        n.set("adapted_modules", JSON.valueToTree(plan.adaptedModules()));
        return n;
    }

    /** The resolved pieces of a run, freed together. */
    private static final class Session implements AutoCloseable {
        final EmbeddingRunConfig config;
        final TrainingListener listener;
        final NDManager manager;
        final Path modelDir;
        final SentenceEncoder encoder;
        final LoraModel lora;
        final Tokenizer tokenizer;
        final PairDataset train;
        final RetrievalEvaluator.Tokenized retrieval;
        final PairDataset scored;
        final RetrievalEvaluator evaluator;

        Session(EmbeddingRunConfig config, TrainingListener listener) throws IOException {
            this.config = config;
            this.listener = listener;
            Backend backend = Backend.start(config.backend());
            this.manager = backend.manager();
            long seed = config.train().seed();
            if (config.embeddedModel()) {
                listener.onPhase("resolving embedded model '" + config.model() + "'");
                this.modelDir = EmbeddedModels.resolve(config.model());
            } else {
                this.modelDir = Path.of(config.model());
            }
            listener.onPhase("loading " + modelDir);
            backend.seed(seed);
            this.encoder = SentenceEncoder.load(modelDir, config.pooling());
            if (config.data().maxLength() > encoder.maxLength()) {
                throw new IllegalArgumentException("data.maxLength = " + config.data().maxLength()
                        + " exceeds the model's " + encoder.maxLength() + " positions");
            }
            if (config.lora() != null) {
                backend.seed(seed + 1);
                this.lora = LoraInjector.inject(encoder.model(), config.lora(), manager);
            } else {
                this.lora = null;
                encoder.model().setTrainable(true);
            }
            HalfPrecision.apply(backend, encoder.model(), listener);
            // libtorch's generator drives dropout, so SimCSE's views follow the seed too
            backend.seed(seed + 2);
            listener.onPhase("tokenizing data");
            this.tokenizer = Tokenizer.load(modelDir, config.data().maxLength());
            EmbeddingDataConfig d = config.data();
            this.train = switch (config.loss()) {
                case INFONCE -> PairDataset.pairs(PairJsonl.pairs(d.train(), d.limit()), tokenizer);
                case SIMCSE -> PairDataset.sentences(PairJsonl.sentences(d.train(), d.limit()), tokenizer);
                case COSINE -> PairDataset.scored(PairJsonl.scored(d.train(), d.limit()), tokenizer);
            };
            this.retrieval = d.queries() == null ? null
                    : RetrievalEvaluator.Tokenized.of(RetrievalSet.read(d.queries(), d.corpus(), 0), tokenizer);
            this.scored = d.scored() == null ? null : PairDataset.scored(PairJsonl.scored(d.scored(), 0), tokenizer);
            this.evaluator = new RetrievalEvaluator(encoder, manager, config.train().evalBatchSize());
        }

        Plan plan() {
            List<String> trainableNames = new ArrayList<>();
            encoder.model().namedParameters().forEach((name, p) -> {
                if (p.trainable()) {
                    trainableNames.add(name);
                }
            });
            Map<String, Map<String, Long>> splits = new LinkedHashMap<>();
            splits.put("train", train.stats());
            if (retrieval != null) {
                splits.put("queries", retrieval.queries().stats());
                splits.put("corpus", retrieval.corpus().stats());
            }
            if (scored != null) {
                splits.put("sts", scored.stats());
            }
            int batches = train.batchesPerEpoch(config.train().batchSize());
            return new Plan(modelDir + " (" + config.pooling().name().toLowerCase(java.util.Locale.ROOT) + " pooling, "
                    + config.loss().name().toLowerCase(java.util.Locale.ROOT) + " loss)",
                    lora == null ? List.of() : lora.adaptedPaths(), trainableNames,
                    encoder.model().trainableParameterCount(), encoder.model().parameterCount(), splits,
                    Trainer.stepsPerEpoch(batches, config.train().gradAccum()), Trainer.totalSteps(config.train(), batches),
                    null);
        }

        List<Parameter> trainable() {
            List<Parameter> out = new ArrayList<>();
            encoder.model().namedParameters().values().forEach(p -> {
                if (p.trainable()) {
                    out.add(p);
                }
            });
            return out;
        }

        TrainingData<Batch> batchSource() {
            int batchSize = config.train().batchSize();
            long seed = config.train().seed();
            return new TrainingData<Batch>() {
                @Override
                public int batchesPerEpoch() {
                    return train.batchesPerEpoch(batchSize);
                }

                @Override
                public Iterator<Batch> epoch(int epoch, int skip, NDManager m) {
                    return PairBatches.shuffled(train, batchSize, seed, epoch).iterator(m, skip);
                }
            };
        }

        Map<String, Map<String, Double>> evaluate(String when, TrainingListener to) {
            Map<String, Map<String, Double>> out = new LinkedHashMap<>();
            if (retrieval != null) {
                listener.onPhase("evaluating retrieval (" + when + ")");
                out.put("retrieval", evaluator.retrieval(retrieval));
                to.onEval("retrieval", when, out.get("retrieval"));
            }
            if (scored != null) {
                listener.onPhase("evaluating Spearman on scored pairs (" + when + ")");
                out.put("sts", evaluator.spearman(scored));
                to.onEval("sts", when, out.get("sts"));
            }
            return out;
        }

        @Override
        public void close() {
            tokenizer.close();
            // parameters live in the engine's long-lived manager; free them with the run
            encoder.model().namedParameters().values().forEach(p -> p.value().close());
        }
    }
}
