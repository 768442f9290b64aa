package org.peft4j.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.peft4j.run.Predictor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code peft4j predict} over a Dataset: every row gets the class its text falls in ({@code label}),
 * that class's softmax probability ({@code score}) and the classifier's {@code logits}, which are
 * those {@link Predictor} gives for the same text. Each executor JVM loads the model once
 * ({@link ExecutorModels}); its partitions go through it batch by batch, rows keeping their order.
 */
public final class SparkPredict {

    private SparkPredict() {
    }

    /** {@code input} with the columns label (string), score (float) and logits (array of float) added. */
    public static Dataset<Row> apply(Dataset<Row> input, BatchOptions options) {
        StructType schema = input.schema();
        int text = Columns.text(schema, options.textColumn());
        StructType out = Columns.with(schema,
                DataTypes.createStructField("label", DataTypes.StringType, false),
                DataTypes.createStructField("score", DataTypes.FloatType, false),
                DataTypes.createStructField("logits", DataTypes.createArrayType(DataTypes.FloatType, false), false));
        ExecutorModels.Key key = new ExecutorModels.Key("predict", options.model(), options.adapter(),
                options.maxLength(), options.labels() == null ? null : new ArrayList<>(options.labels()));
        MapPartitionsFunction<Row, Row> partition = rows -> {
            Predictor predictor = ExecutorModels.get(key, options.threads(),
                    (model, adapter) -> Predictor.open(model, adapter, options.labels(), options.maxLength()));
            return new InBatches(rows, options.batchSize(), batch -> {
                List<String> texts = new ArrayList<>(batch.size());
                batch.forEach(row -> texts.add(Columns.textOf(row, text, options.textColumn())));
                float[][] logits;
                // the tasks of one executor take turns: libtorch's own threads share out each forward pass
                synchronized (predictor) {
                    logits = predictor.logits(texts, options.batchSize());
                }
                List<Row> result = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    int best = Predictor.bestClass(logits[i]);
                    result.add(Columns.append(batch.get(i), predictor.labels().get(best),
                            (float) softmax(logits[i], best), logits[i]));
                }
                return result;
            });
        };
        return input.mapPartitions(partition, Encoders.row(out));
    }

    /** exp(z_k) / sum_j exp(z_j), shifted by the largest logit so that no exp overflows. */
    private static double softmax(float[] z, int k) {
        double max = z[Predictor.bestClass(z)];
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        return Math.exp(z[k] - max) / sum;
    }
}
