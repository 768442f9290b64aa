package org.peft4j.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.peft4j.config.ConfigException;
import org.peft4j.data.CausalLmBatch;
import org.peft4j.data.CausalLmBatches;
import org.peft4j.data.CausalLmDataset;
import org.peft4j.data.CausalLmTokenizer;
import org.peft4j.data.ChatMessage;
import org.peft4j.data.ChatTemplate;
import org.peft4j.data.DataConfig;
import org.peft4j.data.Shard;
import org.peft4j.data.TextFormat;
import org.peft4j.generate.GenerationConfig;
import org.peft4j.generate.Generator;
import org.peft4j.models.core.CausalLm;
import org.peft4j.models.CausalLmLoss;
import org.peft4j.models.Registry;
import org.peft4j.models.core.Task;
import org.peft4j.models.ModelInit;
import org.peft4j.nn.Module;
import org.peft4j.tensor.StepScope;
import org.peft4j.train.TrainingData;
import org.peft4j.train.TrainingListener;
import org.peft4j.train.TrainingObjective;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Causal-LM fine-tuning of a decoder (Llama family or GPT-2): next-token loss on the learned tokens
 * (responses of instructions and chats, all of plain text), loss and perplexity per split, and
 * greedy generations for the recipe's prompts so that a run shows what changed.
 */
final class CausalLmRun implements TaskRun<CausalLmBatch> {

    /** Files of a Hugging Face directory that a fully fine-tuned model carries over unchanged. */
    static final List<String> CARRIED_FILES = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "special_tokens_map.json", "chat_template.jinja");

    private final RunConfig config;
    private final Path modelDir;
    private final NDManager manager;
    private final CausalLm lm;
    private final CausalLmTokenizer tokenizer;
    private final ChatTemplate template;
    private final Set<Integer> stopIds;
    private final Map<String, CausalLmDataset> splits = new LinkedHashMap<>();
    private final long seed;

    /** Positions compared by {@link #outputs}: a vocabulary of 150k makes every position 600 kB of logits. */
    static final int PROBE_POSITIONS = 32;

    CausalLmRun(RunConfig config, Path modelDir, NDManager manager, long seed, TrainingListener listener)
            throws IOException {
        this.config = config;
        this.modelDir = modelDir;
        this.manager = manager;
        CausalLmOptions options = config.causalLm();
        this.seed = seed;
        this.lm = load(config, modelDir, seed);
        this.tokenizer = loadTokenizer(modelDir);
        DataConfig data = config.data();
        List<String> problems = new ArrayList<>();
        if (data.maxLength() > lm.maxPositions()) {
            problems.add("data.maxLength = " + data.maxLength() + " is longer than the model takes"
                    + " (max_position_embeddings = " + lm.maxPositions() + "); lower it");
        }
        this.template = options.format() == TextFormat.TEXTS ? null : template(options.template(), modelDir, problems);
        Set<Integer> stops = new LinkedHashSet<>(eosTokenIds(modelDir));
        if (template != null) {
            int end = tokenizer.tokenId(template.endOfTurn());
            if (end < 0) {
                problems.add("chat template " + name(template) + " ends each turn with " + template.endOfTurn()
                        + ", which " + tokenizer.file() + " has no token for, so the model could not learn to stop;"
                        + " choose the template its tokenizer was made for (valid: chatml, llama3)");
            }
            stops.add(end);
        }
        ConfigException.throwIfAny(problems);
        this.stopIds = stops;
        listener.onPhase("tokenizing data (" + options.format().name().toLowerCase()
                + (template == null ? "" : ", template " + name(template)) + (options.packing() ? ", packed" : "") + ")");
        int eos = stops.stream().filter(i -> i >= 0).findFirst().orElse(tokenizer.tokenId("<|endoftext|>"));
        read("train", data.train(), data.limit(), eos);
        if (data.valid() != null) {
            read("valid", data.valid(), 0, eos);
        }
        if (data.test() != null) {
            read("test", data.test(), 0, eos);
        }
        CausalLmDataset train = splits.get("train");
        if (train.size() == 0) {
            throw new ConfigException(List.of("data.train " + data.train() + ": no example keeps a learned token within"
                    + " data.maxLength = " + data.maxLength() + " (" + train.dropped() + " dropped); raise data.maxLength"));
        }
    }

    /** The decoder: pretrained, or random weights from {@code seed} in its config's shape. */
    private static CausalLm load(RunConfig config, Path modelDir, long seed) throws IOException {
        try {
            return config.model().init() == ModelInit.RANDOM ? Registry.random(modelDir, Task.CAUSAL_LM, seed)
                    : Registry.load(modelDir, Task.CAUSAL_LM);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(List.of(e.getMessage()));
        }
    }

    @Override
    public Module loadBase() throws IOException {
        return (Module) load(config, modelDir, seed);
    }

    /** The logits of the first {@value #PROBE_POSITIONS} positions, (n, positions × V). */
    @Override
    public float[][] outputs(Module m, int n) {
        CausalLm decoder = (CausalLm) m;
        return Probes.of(m, () -> {
            CausalLmBatch batch = CausalLmBatches.inOrder(splits.get("train"), n).get(0, manager);
            String first = ":, :" + PROBE_POSITIONS;
            return decoder.forward(batch.inputIds().get(first), batch.attentionMask().get(first), null, null);
        });
    }

    private static CausalLmTokenizer loadTokenizer(Path dir) {
        try {
            return CausalLmTokenizer.load(dir);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(List.of(e.getMessage()));
        }
    }

    private static String name(ChatTemplate t) {
        return "'" + t.name().toLowerCase() + "'";
    }

    /** The recipe's template, else the model's own when it is one peft4j knows. */
    private static ChatTemplate template(ChatTemplate given, Path modelDir, List<String> problems) throws IOException {
        if (given != null) {
            return given;
        }
        // chat_template.jinja (Transformers 5), else tokenizer_config.json's chat_template
        String jinja = ChatTemplate.ownJinja(modelDir);
        ChatTemplate own = ChatTemplate.recognise(jinja);
        if (own == null) {
            problems.add("the model in " + modelDir + " has " + (jinja == null ? "no chat template (chat_template.jinja,"
                    + " or tokenizer_config.json's chat_template)" : "a chat template peft4j does not know")
                    + "; name one: task causalLm(template: 'chatml') (valid: chatml, llama3)");
        }
        return own;
    }

    /** config.json's eos_token_id (a number or a list of them), as transformers stops on. */
    static Set<Integer> eosTokenIds(Path modelDir) throws IOException {
        JsonNode eos = new ObjectMapper().readTree(modelDir.resolve("config.json").toFile()).path("eos_token_id");
        Set<Integer> ids = new LinkedHashSet<>();
        if (eos.isIntegralNumber()) {
            ids.add(eos.asInt());
        } else if (eos.isArray()) {
            eos.forEach(n -> {
                if (n.isIntegralNumber()) {
                    ids.add(n.asInt());
                }
            });
        }
        return ids;
    }

    private void read(String split, Path file, int limit, int eos) {
        CausalLmOptions options = config.causalLm();
        int maxLength = options.packing() ? Integer.MAX_VALUE : config.data().maxLength();
        // the pad id is never learned nor attended (label −100, mask 0); any valid id will do
        int pad = Math.max(0, eos);
        CausalLmDataset ds;
        if (options.format() == TextFormat.TEXTS) {
            List<String> texts = limited(CausalLmDataset.readTexts(file, config.data().textField()), limit);
            ds = CausalLmDataset.fromTexts(texts, tokenizer, maxLength, eos, pad);
        } else {
            List<List<ChatMessage>> chats = options.format() == TextFormat.CHATS ? CausalLmDataset.readChats(file)
                    : CausalLmDataset.readInstructions(file);
            ds = CausalLmDataset.fromChats(limited(chats, limit), tokenizer, template, maxLength, pad);
        }
        splits.put(split, options.packing() ? ds.packed(config.data().maxLength()) : ds);
    }

    private static <T> List<T> limited(List<T> all, int limit) {
        return limit > 0 && all.size() > limit ? all.subList(0, limit) : all;
    }

    @Override
    public Module model() {
        return (Module) lm;
    }

    /** Mean −log p over the batch's learned next tokens (HF's causal-LM loss). */
    @Override
    public TrainingObjective<CausalLmBatch> objective() {
        return new TrainingObjective<>() {
            @Override
            public NDArray loss(CausalLmBatch b) {
                return CausalLmLoss.loss(lm.forward(b.inputIds(), b.attentionMask(), null, null), b.labels());
            }

            /** The positions the loss scores: a learned label with a token before it. */
            @Override
            public double weight(CausalLmBatch b) {
                return b.examples() == 0 ? 0 : b.labels().get(":, 1:").neq(CausalLmLoss.IGNORE).sum().getLong();
            }
        };
    }

    @Override
    public TrainingData<CausalLmBatch> trainingData(int batchSize, long seed, Shard shard) {
        CausalLmDataset train = splits.get("train");
        return TrainingData.of(CausalLmBatches.count(train.size(), batchSize), (epoch, skip, m) ->
                CausalLmBatches.shuffled(train, batchSize, seed, epoch).sharded(shard).iterator(m, skip));
    }

    @Override
    public Map<String, Map<String, Long>> splitStats() {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        splits.forEach((split, ds) -> {
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("examples", (long) ds.size());
            m.put("tokens", ds.tokens());
            m.put("learned", ds.learnedTokens());
            m.put("truncated", (long) ds.truncated());
            m.put("dropped", (long) ds.dropped());
            out.put(split, m);
        });
        return out;
    }

    @Override
    public List<String> evalSplits() {
        return splits.keySet().stream().filter(s -> !s.equals("train")).toList();
    }

    /**
     * The mean next-token loss over every learned token of the split (each batch's mean weighted by
     * its scored tokens, so batch boundaries do not matter) and its perplexity exp(loss).
     */
    @Override
    public Map<String, Double> evaluate(String split, int batchSize) {
        CausalLmDataset ds = splits.get(split);
        Module module = (Module) lm;
        boolean wasTraining = module.isTraining();
        module.train(false);
        double sum = 0;
        long scored = 0;
        try {
            CausalLmBatches batches = CausalLmBatches.inOrder(ds, batchSize);
            for (int b = 0; b < batches.size(); b++) {
                try (StepScope scope = new StepScope()) {
                    CausalLmBatch batch = batches.get(b, manager);
                    NDArray labels = batch.labels();
                    NDArray logits = lm.forward(batch.inputIds(), batch.attentionMask(), null, null);
                    // scored positions: a learned label with a token before it (the first is never predicted)
                    long n = labels.get(":, 1:").neq(CausalLmLoss.IGNORE).sum().getLong();
                    sum += CausalLmLoss.loss(logits, labels).getFloat() * n;
                    scored += n;
                }
            }
        } finally {
            module.train(wasTraining);
        }
        Map<String, Double> m = new LinkedHashMap<>();
        double loss = scored == 0 ? 0 : sum / scored;
        m.put("loss", loss);
        m.put("perplexity", CausalLmLoss.perplexity(loss));
        m.put("tokens", (double) scored);
        return m;
    }

    @Override
    public String peftTaskType() {
        return "CAUSAL_LM";
    }

    /**
     * A complete Hugging Face directory in {@code runDir/model}: the trained weights as
     * model.safetensors beside the source directory's config and tokenizer files, so that
     * {@code model { path 'runs/x/model' }} and {@code peft4j generate --model} load it.
     */
    @Override
    public Path saveFull(Path runDir, Path adapterDir) throws IOException {
        return FullWeights.saveDirectory((Module) lm, modelDir, runDir.resolve("model"), CARRIED_FILES);
    }

    @Override
    public List<String> samplePrompts() {
        return config.causalLm().prompts();
    }

    /** Greedy continuations of the sample prompts: as a user turn under the template, or as plain text. */
    @Override
    public List<String> samples() {
        List<String> out = new ArrayList<>();
        for (String prompt : samplePrompts()) {
            out.add(generate(prompt, config.causalLm().maxNewTokens()));
        }
        return out;
    }

    @Override
    public String generate(String prompt, int maxNewTokens) {
        GenerationConfig g = GenerationConfig.greedy(maxNewTokens)
                .withStops(List.of(), stopIds.stream().filter(i -> i >= 0).collect(java.util.stream.Collectors.toSet()));
        Module module = (Module) lm;
        boolean wasTraining = module.isTraining();
        try {
            String text = template == null ? prompt
                    : template.renderText(List.of(new ChatMessage("user", prompt)), true);
            return new Generator(lm, manager).generate(text, tokenizer, g).text();
        } finally {
            module.train(wasTraining);
        }
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
