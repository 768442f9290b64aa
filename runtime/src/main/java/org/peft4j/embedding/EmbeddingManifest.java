package org.peft4j.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import org.peft4j.io.FileTrees;
import org.peft4j.run.Plan;
import org.peft4j.tensor.Backend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code config.json} of an embedding run: the configuration as the run used it, the engine that ran
 * it, the seeds derived from {@code train.seed}, and SHA-256 of the base weights and every data file,
 * so that a run can be reproduced and its inputs recognised.
 */
final class EmbeddingManifest {

    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new SimpleModule().addSerializer(Path.class, ToStringSerializer.instance));

    private EmbeddingManifest() {
    }

    static JsonNode resolvedConfig(EmbeddingRunConfig config, Path modelDir, Plan plan) {
        ObjectNode n = JSON.valueToTree(config);
        n.put("task", "embedding");
        n.put("model_dir", modelDir.toString());
        ObjectNode env = n.putObject("environment");
        String version = EmbeddingManifest.class.getPackage().getImplementationVersion();
        env.put("peft4j", version == null ? "dev" : version);
        env.put("engine", org.peft4j.tensor.Backend.get().engineVersion());
        env.put("djl", org.peft4j.tensor.Backend.get().bindingVersion());
        env.put("java", System.getProperty("java.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("threads", Backend.get().threads());
        n.put("total_steps", plan.totalSteps());
        long seed = config.train().seed();
        // the seeds EmbeddingFineTune derives from train.seed, so a reader need not know the derivation
        ObjectNode seeds = n.putObject("seeds");
        seeds.put("train", seed);
        seeds.put("lora_init", seed + 1);
        seeds.put("dropout", seed + 2);
        seeds.put("data_order", seed);
        ObjectNode sums = n.putObject("sha256");
        sums.put("model.safetensors", sha256(modelDir.resolve("model.safetensors")));
        ObjectNode data = sums.putObject("data");
        EmbeddingDataConfig d = config.data();
        for (Path f : new Path[] {d.train(), d.queries(), d.corpus(), d.scored()}) {
            if (f != null) {
                data.put(f.toString(), sha256(f));
            }
        }
        return n;
    }

    private static String sha256(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return FileTrees.sha256(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to checksum it", e);
        }
    }
}
