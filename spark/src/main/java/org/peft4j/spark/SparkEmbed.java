package org.peft4j.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.peft4j.run.Embedder;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code peft4j embed} over a Dataset: every row gets the unit sentence vector of its text
 * ({@code embedding}), the one {@link Embedder} gives for the same text. Each executor JVM loads
 * the encoder once ({@link ExecutorModels}); its partitions go through it batch by batch, rows
 * keeping their order.
 */
public final class SparkEmbed {

    private SparkEmbed() {
    }

    /** {@code input} with the column embedding (array of float) added. */
    public static Dataset<Row> apply(Dataset<Row> input, BatchOptions options) {
        StructType schema = input.schema();
        int text = Columns.text(schema, options.textColumn());
        StructType out = Columns.with(schema,
                DataTypes.createStructField("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false));
        ExecutorModels.Key key = new ExecutorModels.Key("embed", options.model(), options.adapter(),
                options.maxLength(), options.pooling());
        // 0: the model's limit, which Embedder.open takes when it is the shorter
        int maxLength = options.maxLength() == 0 ? Integer.MAX_VALUE : options.maxLength();
        MapPartitionsFunction<Row, Row> partition = rows -> {
            Embedder embedder = ExecutorModels.get(key, options.threads(),
                    (model, adapter) -> Embedder.open(model, adapter, options.pooling(), maxLength));
            return new InBatches(rows, options.batchSize(), batch -> {
                List<String> texts = new ArrayList<>(batch.size());
                batch.forEach(row -> texts.add(Columns.textOf(row, text, options.textColumn())));
                float[][] vectors;
                // the tasks of one executor take turns: libtorch's own threads share out each forward pass
                synchronized (embedder) {
                    vectors = embedder.embed(texts, options.batchSize());
                }
                List<Row> result = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) {
                    result.add(Columns.append(batch.get(i), (Object) vectors[i]));
                }
                return result;
            });
        };
        return input.mapPartitions(partition, Encoders.row(out));
    }
}
