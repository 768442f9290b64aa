package org.peft4j.spark;

import org.peft4j.embedding.PoolingMode;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What a Spark job runs on every partition, the same as the matching {@code peft4j predict} or
 * {@code peft4j embed} options; sent to the executors with the job, so it holds only plain values.
 *
 * @param model      a Hugging Face model directory every executor can read (a shared or copied path),
 *                   or an embedded model's name ('minilm', 'bge-small-en')
 * @param adapter    a PEFT adapter directory to apply, or null
 * @param textColumn the string column to classify or embed
 * @param maxLength  tokens per text, longer ones are cut; 0 for the model's limit
 * @param batchSize  texts per forward pass, within a partition
 * @param threads    libtorch's intra-op threads in each executor JVM; 0 keeps libtorch's default (one per core).
 *                   Tasks of one executor take turns on its model, so give it the executor's cores
 * @param labels     predict: class names in class-id order, or null for the adapter's or config.json's
 * @param pooling    embed: mean or cls
 */
public record BatchOptions(String model, String adapter, String textColumn, int maxLength, int batchSize, int threads,
                           List<String> labels, PoolingMode pooling) implements Serializable {

    public BatchOptions {
        List<String> problems = new ArrayList<>();
        if (model == null || model.isBlank()) {
            problems.add("model is not set; give a Hugging Face model directory or an embedded model's name");
        }
        if (textColumn == null || textColumn.isBlank()) {
            problems.add("textColumn is not set; give the name of the string column that holds the texts");
        }
        if (maxLength < 0 || maxLength == 1) {
            problems.add("maxLength is " + maxLength + "; give 0 (the model's limit) or at least 2");
        }
        if (batchSize < 1) {
            problems.add("batchSize is " + batchSize + "; give at least 1");
        }
        if (threads < 0) {
            problems.add("threads is " + threads + "; give 0 (libtorch's default) or more");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        labels = labels == null ? null : List.copyOf(labels);
        pooling = pooling == null ? PoolingMode.MEAN : pooling;
    }

    /** Defaults for {@code model}: the column "text", the model's token limit, batches of 64, libtorch's threads, mean pooling. */
    public static BatchOptions of(String model) {
        return new BatchOptions(model, null, "text", 0, 64, 0, null, PoolingMode.MEAN);
    }

    public BatchOptions withAdapter(String dir) {
        return new BatchOptions(model, dir, textColumn, maxLength, batchSize, threads, labels, pooling);
    }

    public BatchOptions withTextColumn(String column) {
        return new BatchOptions(model, adapter, column, maxLength, batchSize, threads, labels, pooling);
    }

    public BatchOptions withMaxLength(int tokens) {
        return new BatchOptions(model, adapter, textColumn, tokens, batchSize, threads, labels, pooling);
    }

    public BatchOptions withBatchSize(int texts) {
        return new BatchOptions(model, adapter, textColumn, maxLength, texts, threads, labels, pooling);
    }

    public BatchOptions withThreads(int n) {
        return new BatchOptions(model, adapter, textColumn, maxLength, batchSize, n, labels, pooling);
    }

    public BatchOptions withLabels(List<String> names) {
        return new BatchOptions(model, adapter, textColumn, maxLength, batchSize, threads, names, pooling);
    }

    public BatchOptions withPooling(PoolingMode mode) {
        return new BatchOptions(model, adapter, textColumn, maxLength, batchSize, threads, labels, mode);
    }
}
