package org.peft4j.run;

import ai.djl.ndarray.NDManager;
import org.peft4j.config.ConfigException;
import org.peft4j.data.Batch;
import org.peft4j.data.DataConfig;
import org.peft4j.data.PairBatches;
import org.peft4j.data.PairDataset;
import org.peft4j.data.PairJsonl;
import org.peft4j.data.RetrievalSet;
import org.peft4j.data.Shard;
import org.peft4j.data.Tokenizer;
import org.peft4j.embedding.EmbeddingObjective;
import org.peft4j.embedding.NonFiniteGradientSkip;
import org.peft4j.embedding.PoolingMode;
import org.peft4j.embedding.RetrievalEvaluator;
import org.peft4j.embedding.SentenceEncoder;
import org.peft4j.models.core.TokenEncoder;
import org.peft4j.nn.Module;
import org.peft4j.nn.Parameter;
import org.peft4j.train.StepHook;
import org.peft4j.train.TrainingData;
import org.peft4j.train.TrainingListener;
import org.peft4j.train.TrainingObjective;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sentence-embedding fine-tuning of an encoder of any family the Registry loads: pooled, L2-normalised sentence
 * vectors trained with InfoNCE, unsupervised SimCSE or cosine regression, evaluated by retrieval
 * (queries over a corpus) and by Spearman's ρ over scored pairs. The adapter is saved with PEFT's task
 * type FEATURE_EXTRACTION, its keys relative to the bare encoder, as sentence-transformers loads it.
 */
final class EmbeddingRun implements TaskRun<Batch> {

    /** The evaluations, in the order they run and are reported. */
    static final String RETRIEVAL = "retrieval";
    static final String STS = "sts";

    /** Files of the source directory that a fully fine-tuned encoder carries over unchanged. */
    static final List<String> CARRIED_FILES = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt");

    private final EmbeddingOptions options;
    private final Path modelDir;
    private final SentenceEncoder encoder;
    private final Tokenizer tokenizer;
    private final PairDataset train;
    private final RetrievalEvaluator.Tokenized retrieval;
    private final PairDataset scored;
    private final RetrievalEvaluator evaluator;
    private final NDManager manager;
    private NonFiniteGradientSkip skip;

    EmbeddingRun(RunConfig config, Path modelDir, NDManager manager, TrainingListener listener) throws IOException {
        this.options = config.embedding();
        this.modelDir = modelDir;
        this.encoder = load(modelDir, options.pooling());
        this.manager = manager;
        DataConfig d = config.data();
        if (d.maxLength() > encoder.maxLength()) {
            throw new ConfigException(List.of("data.maxLength = " + d.maxLength() + " exceeds the model's "
                    + encoder.maxLength() + " positions; lower it"));
        }
        listener.onPhase("tokenizing data");
        this.tokenizer = Tokenizer.load(modelDir, d.maxLength());
        this.train = switch (options.loss()) {
            case INFONCE -> PairDataset.pairs(PairJsonl.pairs(d.train(), d.limit()), tokenizer);
            case SIMCSE -> PairDataset.sentences(PairJsonl.sentences(d.train(), d.limit()), tokenizer);
            case COSINE -> PairDataset.scored(PairJsonl.scored(d.train(), d.limit()), tokenizer);
        };
        this.retrieval = d.queries() == null ? null
                : RetrievalEvaluator.Tokenized.of(RetrievalSet.read(d.queries(), d.corpus(), 0), tokenizer);
        this.scored = d.scored() == null ? null : PairDataset.scored(PairJsonl.scored(d.scored(), 0), tokenizer);
        this.evaluator = new RetrievalEvaluator(encoder, manager, config.train().evalBatchSize());
    }

    @Override
    public Module model() {
        return encoder.model();
    }

    private static SentenceEncoder load(Path modelDir, PoolingMode pooling) throws IOException {
        return SentenceEncoder.load(modelDir, pooling);
    }

    @Override
    public Module loadBase() throws IOException {
        return load(modelDir, options.pooling()).model();
    }

    /** The sentence vectors of the first column (anchors, sentences, or the first text of a pair), (n, H). */
    @Override
    public float[][] outputs(Module m, int n) {
        SentenceEncoder e = m == encoder.model() ? encoder : SentenceEncoder.of((TokenEncoder) m, options.pooling());
        return Probes.of(m, () -> {
            PairBatches.Column c = PairBatches.unpack(PairBatches.inOrder(train, n).get(0, manager)).get(0);
            return e.encode(c.inputIds(), c.attentionMask(), c.tokenTypeIds());
        });
    }

    @Override
    public String modelNote() {
        return " (" + options.pooling().name().toLowerCase(Locale.ROOT) + " pooling, "
                + options.loss().name().toLowerCase(Locale.ROOT) + " loss)";
    }

    @Override
    public TrainingObjective<Batch> objective() {
        return new EmbeddingObjective(encoder, options.loss(), options.temperature());
    }

    @Override
    public TrainingData<Batch> trainingData(int batchSize, long seed, Shard shard) {
        return TrainingData.of(train.batchesPerEpoch(batchSize),
                (epoch, skip, m) -> PairBatches.shuffled(train, batchSize, seed, epoch).sharded(shard).iterator(m, skip));
    }

    @Override
    public Map<String, Map<String, Long>> splitStats() {
        Map<String, Map<String, Long>> splits = new LinkedHashMap<>();
        splits.put("train", train.stats());
        if (retrieval != null) {
            splits.put("queries", retrieval.queries().stats());
            splits.put("corpus", retrieval.corpus().stats());
        }
        if (scored != null) {
            splits.put(STS, scored.stats());
        }
        return splits;
    }

    @Override
    public List<String> evalSplits() {
        List<String> out = new ArrayList<>();
        if (retrieval != null) {
            out.add(RETRIEVAL);
        }
        if (scored != null) {
            out.add(STS);
        }
        return out;
    }

    /** Both evaluations also run during training (there is no separate validation set). */
    @Override
    public List<String> evalDuringTraining() {
        return evalSplits();
    }

    @Override
    public String evalPhase(String split, String when) {
        return RETRIEVAL.equals(split) ? "evaluating retrieval (" + when + ")"
                : "evaluating Spearman on scored pairs (" + when + ")";
    }

    @Override
    public Map<String, Double> evaluate(String split, int batchSize) {
        return RETRIEVAL.equals(split) ? evaluator.retrieval(retrieval) : evaluator.spearman(scored);
    }

    /**
     * A step whose gradients are non-finite while its loss is finite is zeroed rather than ending the
     * run (see {@link NonFiniteGradientSkip}).
     */
    @Override
    public StepHook stepHook(List<Parameter> trainable, TrainingListener listener) {
        skip = new NonFiniteGradientSkip(trainable, listener);
        return skip;
    }

    @Override
    public Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("loss", options.loss().name());
        m.put("temperature", options.temperature());
        m.put("pooling", options.pooling().name());
        m.put("skipped_steps", skip == null ? 0 : skip.skipped());
        return m;
    }

    @Override
    public String peftTaskType() {
        return "FEATURE_EXTRACTION";
    }

    /**
     * A complete Hugging Face directory in {@code runDir/model}: the trained encoder as model.safetensors
     * beside the source directory's config and tokenizer files.
     */
    @Override
    public Path saveFull(Path runDir, Path adapterDir) throws IOException {
        return FullWeights.saveDirectory(encoder.model(), modelDir, runDir.resolve("model"), CARRIED_FILES);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
