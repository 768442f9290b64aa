package org.peft4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Labelled texts, tokenized once up front. Token ids of all examples sit in one flat int array
 * with offsets, so a dataset of N examples is a handful of Java arrays, not N objects or NDArrays;
 * tensors are made per batch by {@link Batches}.
 */
public final class ClassificationDataset {

    private final Path source;
    private final List<String> labelNames;
    private final int padId;
    private final int maxLength;
    private final int[] tokenIds;
    private final int[] tokenTypeIds;
    /** Example i's tokens are {@code [offsets[i], offsets[i + 1])}. */
    private final int[] offsets;
    private final int[] labels;
    private final long skipped;
    private final long truncated;

    private ClassificationDataset(Path source, List<String> labelNames, Tokenizer tokenizer, List<LabeledText> examples,
                                  long skipped) {
        this.source = source;
        this.labelNames = List.copyOf(labelNames);
        this.padId = tokenizer.padId();
        this.maxLength = tokenizer.maxLength();
        List<String> texts = new ArrayList<>(examples.size());
        for (LabeledText e : examples) {
            texts.add(e.text());
        }
        List<Encoded> encoded = tokenizer.encodeAll(texts);
        int n = examples.size();
        offsets = new int[n + 1];
        labels = new int[n];
        long total = 0;
        long cut = 0;
        for (int i = 0; i < n; i++) {
            total += encoded.get(i).length();
            offsets[i + 1] = Math.toIntExact(total);
            LabeledText example = examples.get(i);
            if (example.label() < 0 || example.label() >= labelNames.size()) {
                throw new IllegalArgumentException("example from line " + example.line() + " has class id "
                        + example.label() + " outside the " + labelNames.size() + " labels " + labelNames);
            }
            labels[i] = example.label();
            if (encoded.get(i).truncated()) {
                cut++;
            }
        }
        tokenIds = new int[(int) total];
        tokenTypeIds = new int[(int) total];
        for (int i = 0; i < n; i++) {
            Encoded e = encoded.get(i);
            System.arraycopy(e.ids(), 0, tokenIds, offsets[i], e.length());
            System.arraycopy(e.typeIds(), 0, tokenTypeIds, offsets[i], e.length());
        }
        this.skipped = skipped;
        this.truncated = cut;
    }

    /**
     * Reads and tokenizes a JSONL file.
     *
     * @param file      one JSON object per line
     * @param reader    which fields hold text and label, the declared labels, what to do with bad lines
     * @param limit     keep at most this many examples, the first ones in the file (0: all)
     * @param tokenizer tokenizes every text once; its maxLength is the truncation length
     */
    public static ClassificationDataset load(Path file, JsonlReader reader, int limit, Tokenizer tokenizer) {
        JsonlRead read = reader.read(file, limit);
        return new ClassificationDataset(file, reader.labels(), tokenizer, read.examples(), read.skipped());
    }

    /** Tokenizes examples already in memory (tests, other sources). */
    public static ClassificationDataset of(List<LabeledText> examples, List<String> labels, Tokenizer tokenizer) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no examples given");
        }
        return new ClassificationDataset(null, labels, tokenizer, examples, 0);
    }

    /** The training split of {@code config}; {@code config.limit()} applies here only. */
    public static ClassificationDataset train(DataConfig config, List<String> labels, Tokenizer tokenizer,
                                              OnBadLine onBadLine) {
        return fromConfig(config, config.train(), "train", config.limit(), labels, tokenizer, onBadLine);
    }

    /** The validation split of {@code config}. */
    public static ClassificationDataset valid(DataConfig config, List<String> labels, Tokenizer tokenizer,
                                              OnBadLine onBadLine) {
        return fromConfig(config, config.valid(), "valid", 0, labels, tokenizer, onBadLine);
    }

    /** The test split of {@code config}. */
    public static ClassificationDataset test(DataConfig config, List<String> labels, Tokenizer tokenizer,
                                             OnBadLine onBadLine) {
        return fromConfig(config, config.test(), "test", 0, labels, tokenizer, onBadLine);
    }

    private static ClassificationDataset fromConfig(DataConfig config, Path file, String split, int limit,
                                                    List<String> labels, Tokenizer tokenizer, OnBadLine onBadLine) {
        if (file == null) {
            throw new IllegalArgumentException("data." + split + " is not set; e.g. " + split
                    + " jsonl('data/spam/" + split + ".jsonl')");
        }
        if (tokenizer.maxLength() != config.maxLength()) {
            // Truncation happens in the tokenizer, so a mismatch would silently ignore data.maxLength.
            throw new IllegalArgumentException("tokenizer truncates at " + tokenizer.maxLength()
                    + " tokens but data.maxLength = " + config.maxLength()
                    + "; load the tokenizer with Tokenizer.load(dir, config.maxLength())");
        }
        JsonlReader reader = new JsonlReader(config.textField(), config.labelField(), labels, onBadLine);
        return load(file, reader, limit, tokenizer);
    }

    public int size() {
        return labels.length;
    }

    /** Number of tokens of example {@code i}, special tokens included. */
    public int length(int i) {
        return offsets[i + 1] - offsets[i];
    }

    /** Class id of example {@code i} (an index into {@link #labels()}). */
    public int label(int i) {
        return labels[i];
    }

    /** Token ids of example {@code i} (a copy). */
    public int[] ids(int i) {
        return Arrays.copyOfRange(tokenIds, offsets[i], offsets[i + 1]);
    }

    /** Token type ids of example {@code i} (a copy). */
    public int[] typeIds(int i) {
        return Arrays.copyOfRange(tokenTypeIds, offsets[i], offsets[i + 1]);
    }

    /** The declared labels; class id k is {@code labels().get(k)}. */
    public List<String> labels() {
        return labelNames;
    }

    public int padId() {
        return padId;
    }

    public int maxLength() {
        return maxLength;
    }

    /** The file read, or null for examples given in memory. */
    public Path source() {
        return source;
    }

    /** Batches per epoch when the last, smaller batch is kept: ceil(size / batchSize). */
    public int batchesPerEpoch(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize = " + batchSize + " must be >= 1");
        }
        return (size() + batchSize - 1) / batchSize;
    }

    /**
     * Counts for printing: examples, skipped (bad lines), truncated, tokens (special tokens
     * included), longest, then {@code label.<name>} for every declared label.
     */
    public Map<String, Long> stats() {
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("examples", (long) size());
        stats.put("skipped", skipped);
        stats.put("truncated", truncated);
        stats.put("tokens", (long) tokenIds.length);
        long longest = 0;
        long[] perLabel = new long[labelNames.size()];
        for (int i = 0; i < size(); i++) {
            longest = Math.max(longest, length(i));
            perLabel[labels[i]]++;
        }
        stats.put("longest", longest);
        for (int k = 0; k < perLabel.length; k++) {
            stats.put("label." + labelNames.get(k), perLabel[k]);
        }
        return stats;
    }

    /** Copies example {@code i}'s ids and type ids into row buffers starting at {@code at}. */
    void copyInto(int i, long[] ids, long[] typeIds, int at) {
        for (int k = offsets[i], j = at; k < offsets[i + 1]; k++, j++) {
            ids[j] = tokenIds[k];
            typeIds[j] = tokenTypeIds[k];
        }
    }
}
