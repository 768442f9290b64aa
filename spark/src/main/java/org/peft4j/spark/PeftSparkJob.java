package org.peft4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.peft4j.embedding.PoolingMode;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The spark-submit entry: reads a JSONL or Parquet input, runs {@link SparkPredict} or
 * {@link SparkEmbed} over it and writes the rows with their new columns, in the input's order, to
 * a Parquet or JSON-lines directory.
 */
public final class PeftSparkJob {

    static final String USAGE = String.join("\n",
            "usage: spark-submit --class org.peft4j.spark.PeftSparkJob ... peft4j-spark.jar MODE OPTIONS",
            "  MODE              predict (adds label, score, logits) or embed (adds embedding)",
            "  --model M         a Hugging Face model directory every executor reads, or minilm / bge-small-en",
            "  --adapter DIR     a PEFT adapter directory every executor reads (optional)",
            "  --input PATH      *.jsonl / *.json (JSON lines) or *.parquet (a file or a directory)",
            "  --output PATH     a directory: Parquet when it ends in .parquet, else JSON lines",
            "  --text-column C   the string column with the texts (default: text)",
            "  --max-length N    tokens per text, longer ones are cut; 0 for the model's limit (default: 0)",
            "  --batch-size N    texts per forward pass (default: 64)",
            "  --threads N       libtorch threads per executor; give spark.executor.cores (default: libtorch's, one per core)",
            "  --labels A,B,...  predict: class names in class-id order (default: the adapter's, else config.json's)",
            "  --pooling P       embed: mean or cls (default: mean)");

    private static final Set<String> OPTIONS = Set.of("--model", "--adapter", "--input", "--output", "--text-column",
            "--max-length", "--batch-size", "--threads", "--labels", "--pooling");

    private PeftSparkJob() {
    }

    public static void main(String[] args) {
        Job job;
        try {
            job = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        SparkSession spark = SparkSession.builder().appName("peft4j " + job.mode).getOrCreate();
        try {
            run(spark, job);
        } finally {
            spark.stop();
        }
    }

    /** A parsed command line. */
    record Job(String mode, BatchOptions options, String input, String output) {
    }

    static void run(SparkSession spark, Job job) {
        Dataset<Row> input = job.input.endsWith(".parquet")
                ? spark.read().parquet(job.input)
                : spark.read().json(job.input);
        Dataset<Row> out = job.mode.equals("predict")
                ? SparkPredict.apply(input, job.options)
                : SparkEmbed.apply(input, job.options);
        if (job.output.endsWith(".parquet")) {
            out.write().parquet(job.output);
        } else {
            out.write().json(job.output);
        }
    }

    static Job parse(String[] args) {
        if (args.length == 0 || !List.of("predict", "embed").contains(args[0])) {
            throw new IllegalArgumentException(args.length == 0 ? "no MODE given"
                    : "'" + args[0] + "' is not a mode; valid: predict, embed");
        }
        Map<String, String> given = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!OPTIONS.contains(args[i])) {
                throw new IllegalArgumentException("'" + args[i] + "' is not an option; valid: " + OPTIONS.stream().sorted().toList());
            }
            if (i + 1 == args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            given.put(args[i], args[i + 1]);
        }
        for (String required : List.of("--model", "--input", "--output")) {
            if (!given.containsKey(required)) {
                throw new IllegalArgumentException(required + " is required");
            }
        }
        BatchOptions options = BatchOptions.of(given.get("--model"))
                .withAdapter(given.get("--adapter"))
                .withTextColumn(given.getOrDefault("--text-column", "text"))
                .withMaxLength(number(given, "--max-length", 0))
                .withBatchSize(number(given, "--batch-size", 64))
                .withThreads(number(given, "--threads", 0))
                .withLabels(given.containsKey("--labels") ? Arrays.asList(given.get("--labels").split(",")) : null)
                .withPooling(pooling(given.getOrDefault("--pooling", "mean")));
        return new Job(args[0], options, given.get("--input"), given.get("--output"));
    }

    private static int number(Map<String, String> given, String option, int otherwise) {
        String value = given.get(option);
        if (value == null) {
            return otherwise;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a whole number");
        }
    }

    private static PoolingMode pooling(String name) {
        for (PoolingMode mode : PoolingMode.values()) {
            if (mode.name().equalsIgnoreCase(name)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("--pooling '" + name + "' is not a pooling mode; valid: mean, cls");
    }
}
