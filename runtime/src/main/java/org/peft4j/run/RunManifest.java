package org.peft4j.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import org.peft4j.io.FileTrees;
import org.peft4j.models.TaskType;
import org.peft4j.peft.adalora.AdaLoraConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The JSON documents of a run directory: the resolved configuration and the summary. */
final class RunManifest {

    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new SimpleModule().addSerializer(Path.class, ToStringSerializer.instance));

    private RunManifest() {
    }

    /**
     * The configuration exactly as the run used it, with the model directory and the engine that ran it.
     * {@code adalora} is the AdaLoRA config with T known (null without AdaLoRA): its AUTO phases are
     * then the steps the run used, as adapter_config.json has them.
     */
    static JsonNode resolvedConfig(RunConfig config, AdaLoraConfig adalora, Path modelDir, Plan plan) {
        ObjectNode n = JSON.valueToTree(config);
        if (adalora != null) {
            n.set("adalora", JSON.valueToTree(adalora));
        }
        n.put("model_dir", modelDir.toString());
        ObjectNode env = n.putObject("environment");
        env.put("peft4j", version());
        env.put("engine", org.peft4j.tensor.Backend.get().engineVersion());
        env.put("djl", org.peft4j.tensor.Backend.get().bindingVersion());
        env.put("java", System.getProperty("java.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("threads", org.peft4j.tensor.Backend.get().threads());
        n.put("total_steps", plan.totalSteps());
        long seed = config.train().seed();
        // the seeds FineTune derives from train.seed, so a reader need not know the derivation
        ObjectNode seeds = n.putObject("seeds");
        seeds.put("train", seed);
        if (config.task() != TaskType.EMBEDDING) {
            seeds.put("classifier_init", seed);
        }
        seeds.put("lora_init", seed + 1);
        seeds.put("data_order", seed);
        ObjectNode sums = n.putObject("sha256");
        sums.put("model.safetensors", sha256(modelDir.resolve("model.safetensors")));
        ObjectNode data = sums.putObject("data");
        for (Path f : config.data().files()) {
            data.put(f.toString(), sha256(f));
        }
        return n;
    }

    /** Hex SHA-256 of a file, or null when it is absent (a model directory may hold sharded weights). */
    static String sha256(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return FileTrees.sha256(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to checksum it", e);
        }
    }

    static JsonNode summaryJson(Summary s, Plan plan, RunConfig config, org.peft4j.train.Trainer.Result result,
                                int resumedFrom) {
        ObjectNode n = JSON.createObjectNode();
        n.put("recipe", config.name());
        n.put("task", config.task().name().toLowerCase(Locale.ROOT));
        n.put("trainable_params", s.trainableParams());
        n.put("total_params", s.totalParams());
        n.put("trainable_share", plan.trainableShare());
        s.after().forEach((split, m) -> n.set(split, JSON.valueToTree(m)));
        n.set("before", JSON.valueToTree(s.before()));
        n.set("after", JSON.valueToTree(s.after()));
        n.put("steps", s.steps());
        n.put("first_loss", s.firstLoss());
        n.put("last_loss", s.lastLoss());
        n.put("planned_steps", plan.totalSteps());
        n.put("stopped_early", result.stoppedEarly());
        if (result.bestStep() > 0) {
            ObjectNode best = n.putObject("best");
            best.put("metric", config.train().bestMetric());
            best.put("value", result.bestValue());
            best.put("step", result.bestStep());
        }
        if (resumedFrom > 0) {
            n.put("resumed_from_step", resumedFrom);
        }
        n.put("wall_seconds", s.wallSeconds());
        n.put("train_seconds", s.trainSeconds());
        n.put("tokens_per_second", s.tokensPerSecond());
        n.put("peak_rss_bytes", s.peakRssBytes());
        n.set("adapted_modules", JSON.valueToTree(plan.adaptedModules()));
        return n;
    }

    static String version() {
        String v = RunManifest.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
