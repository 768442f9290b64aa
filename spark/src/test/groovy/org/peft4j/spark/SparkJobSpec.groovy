package org.peft4j.spark

import org.apache.spark.sql.Dataset
import org.apache.spark.sql.Row
import org.apache.spark.sql.RowFactory
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.types.DataTypes
import org.apache.spark.sql.types.StructType
import org.peft4j.embedding.PoolingMode
import org.peft4j.run.Embedder
import org.peft4j.run.Predictor
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * SparkPredict and SparkEmbed in Spark's local mode (local[2]: two tasks at a time in this JVM) give
 * what Predictor and Embedder give in one process, row for row in input order, with one model load
 * per JVM however many partitions and jobs use it.
 */
class SparkJobSpec extends Specification {

    static final Path HF = Path.of('../runtime/src/test/resources/hf')
    static final StructType SCHEMA = new StructType()
            .add('id', DataTypes.LongType, false)
            .add('text', DataTypes.StringType, true)

    @Shared @TempDir
    Path dir

    @Shared SparkSession spark
    @Shared Path classifier
    @Shared Path encoder
    @Shared List<String> texts
    @Shared Dataset<Row> input

    def setupSpec() {
        spark = SparkSession.builder().master('local[2]').appName('peft4j spec')
                .config('spark.ui.enabled', 'false')
                .config('spark.driver.host', '127.0.0.1')
                .config('spark.driver.bindAddress', '127.0.0.1')
                .config('spark.sql.shuffle.partitions', '2')
                .getOrCreate()
        // PEFT's tiny BERT classifier (red/green/blue) with the tiny BERT's word-level tokenizer (its 64 ids fit the 80 rows)
        classifier = Files.createDirectories(dir.resolve('seqcls'))
        ['config.json', 'model.safetensors'].each { Files.copy(HF.resolve("bert-seqcls/model/$it"), classifier.resolve(it)) }
        Files.copy(HF.resolve('bert-base/model/tokenizer.json'), classifier.resolve('tokenizer.json'))
        encoder = HF.resolve('bert-base/model')
        List<String> words = ['a', 'big', 'dog', 'likes', 'the', 'moon', 'and', 'bad', 'cat', 'dark', 'day', 'bird', 'blue', 'good']
        Random random = new Random(3)
        texts = (0..<13).collect { (0..random.nextInt(9)).collect { words[random.nextInt(words.size())] }.join(' ') }
        input = spark.createDataFrame(texts.withIndex().collect { String t, int i -> RowFactory.create(100L + i, t) }, SCHEMA)
    }

    def cleanupSpec() {
        spark?.stop()
    }

    static boolean close(List<Number> a, float[] b) {
        a.size() == b.length && (0..<b.length).every { Math.abs(a[it].floatValue() - b[it]) <= 1e-5 * Math.max(1f, Math.abs(b[it])) }
    }

    def "predict over 2 partitions gives Predictor's logits and labels in input order, with one model load in this JVM"() {
        given:
        int loadsBefore = ExecutorModels.loads()
        BatchOptions options = BatchOptions.of(classifier.toString()).withBatchSize(3)
        float[][] expected = Predictor.open(classifier, null, null, 0).withCloseable { it.logits(texts, 64) }
        List<String> names = ['red', 'green', 'blue']   // config.json's id2label

        when: 'two jobs over the same model'
        List<Row> rows = SparkPredict.apply(input, options).collectAsList()
        List<Row> again = SparkPredict.apply(input, options.withBatchSize(5)).collectAsList()

        then:
        input.rdd().getNumPartitions() == 2
        rows*.getLong(0) == (0..<13).collect { 100L + it }
        rows*.getString(1) == texts
        (0..<13).every { close(rows[it].getList(4), expected[it]) }
        rows*.getString(2) == expected.collect { names[argMax(it)] }
        (0..<13).every { Math.abs(rows[it].getFloat(3) - probability(expected[it])) < 1e-6 }
        again*.getString(2) == rows*.getString(2)

        and: 'both jobs, both tasks at a time, used one model'
        ExecutorModels.loads() == loadsBefore + 1
    }

    def "embed over 2 partitions gives Embedder's unit vectors in input order, with one model load in this JVM"() {
        given:
        int loadsBefore = ExecutorModels.loads()
        float[][] expected = Embedder.open(encoder, null, PoolingMode.MEAN, Integer.MAX_VALUE).withCloseable { it.embed(texts, 64) }

        when:
        List<Row> rows = SparkEmbed.apply(input, BatchOptions.of(encoder.toString()).withBatchSize(4)).collectAsList()

        then:
        rows*.getLong(0) == (0..<13).collect { 100L + it }
        (0..<13).every { close(rows[it].getList(2), expected[it]) }
        ExecutorModels.loads() == loadsBefore + 1
    }

    def "the spark-submit entry reads JSON lines and writes them back with the embedding column"() {
        given:
        Path jsonl = dir.resolve('in.jsonl')
        Files.write(jsonl, texts.withIndex().collect { String t, int i -> "{\"id\": ${100 + i}, \"body\": \"${t}\"}".toString() })
        Path out = dir.resolve('out-json')
        float[][] expected = Embedder.open(encoder, null, PoolingMode.MEAN, Integer.MAX_VALUE).withCloseable { it.embed(texts, 64) }

        when:
        PeftSparkJob.run(spark, PeftSparkJob.parse('embed', '--model', encoder.toString(), '--input', jsonl.toString(),
                '--output', out.toString(), '--text-column', 'body'))
        List<Row> rows = spark.read().json(out.toString()).orderBy('id').collectAsList()

        then:
        rows.size() == 13
        (0..<13).every { close(rows[it].getList(rows[it].fieldIndex('embedding')), expected[it]) }
    }

    def "the spark-submit entry reads Parquet and writes Parquet with the prediction columns"() {
        given:
        Path parquet = dir.resolve('in.parquet')
        input.write().parquet(parquet.toString())
        Path out = dir.resolve('out.parquet')
        float[][] expected = Predictor.open(classifier, null, null, 0).withCloseable { it.logits(texts, 64) }

        when:
        PeftSparkJob.run(spark, PeftSparkJob.parse('predict', '--model', classifier.toString(), '--input', parquet.toString(),
                '--output', out.toString(), '--labels', 'r,g,b', '--batch-size', '4'))
        List<Row> rows = spark.read().parquet(out.toString()).orderBy('id').collectAsList()

        then: 'the labels given replace the names in config.json'
        rows*.getLong(0) == (0..<13).collect { 100L + it }
        rows*.getString(2) == expected.collect { ['r', 'g', 'b'][argMax(it)] }
        (0..<13).every { close(rows[it].getList(4), expected[it]) }
    }

    def "a job over a missing or non-string text column is refused on the driver, naming the columns"() {
        when:
        SparkPredict.apply(input, BatchOptions.of(classifier.toString()).withTextColumn(column))

        then:
        IllegalArgumentException e = thrown()
        e.message.contains(message)

        where:
        column | message
        'body' | "the input has no column 'body'; its columns are [id, text]"
        'id'   | "column 'id' holds bigint, not strings"
    }

    def "the spark-submit entry refuses #what with a message"() {
        when:
        PeftSparkJob.parse(args as String[])

        then:
        IllegalArgumentException e = thrown()
        e.message.contains(message)

        where:
        what             | args                                                                  | message
        'a wrong mode'   | ['classify', '--model', 'm']                                          | "'classify' is not a mode; valid: predict, embed"
        'no --input'     | ['embed', '--model', 'm', '--output', 'o']                            | '--input is required'
        'a bad number'   | ['embed', '--model', 'm', '--input', 'i', '--output', 'o', '--batch-size', 'x'] | "--batch-size 'x' is not a whole number"
        'a zero batch'   | ['embed', '--model', 'm', '--input', 'i', '--output', 'o', '--batch-size', '0'] | 'batchSize is 0; give at least 1'
        'an unknown option' | ['embed', '--modle', 'm']                                          | "'--modle' is not an option"
    }

    private static int argMax(float[] z) {
        (0..<z.length).max { z[it] }
    }

    /** The softmax probability of the largest logit, by the definition. */
    private static double probability(float[] z) {
        double sum = z.collect { Math.exp(it as double) }.sum() as double
        Math.exp(z[argMax(z)] as double) / sum
    }
}
