package org.peft4j.data;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (through DJL's native tokenizers), set up for training:
 * special tokens added, truncation to {@code maxLength}, no padding (batches pad themselves to
 * their own longest sequence).
 */
public final class Tokenizer implements AutoCloseable {

    /** Texts per native batch call: large enough to use all cores, small enough to bound memory. */
    private static final int CHUNK = 1024;

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final int padId;
    private final Path file;

    private Tokenizer(HuggingFaceTokenizer tokenizer, int maxLength, int padId, Path file) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.padId = padId;
        this.file = file;
    }

    /**
     * Loads {@code tokenizer.json} from a model directory (or the file itself, if given one).
     *
     * @param modelDir  a Hugging Face model directory, or the path of a tokenizer.json
     * @param maxLength sequences longer than this many tokens (special tokens included) are cut
     */
    public static Tokenizer load(Path modelDir, int maxLength) {
        return load(modelDir, maxLength, null);
    }

    /**
     * As {@link #load(Path, int)}, padding with {@code padId} when it is given: a decoder's classifier
     * finds each row's end by {@code pad_token_id}, so its batches are padded with that id.
     */
    public static Tokenizer load(Path modelDir, int maxLength, Integer padId) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength = " + maxLength + " must be >= 2 (room for [CLS] and [SEP])");
        }
        if (!Files.exists(modelDir)) {
            throw new IllegalArgumentException("model directory " + modelDir + " does not exist");
        }
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve("tokenizer.json") : modelDir;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no tokenizer.json in " + modelDir + "; a Hugging Face model"
                    + " directory needs its tokenizer.json (the fast-tokenizer file): vocab.txt or"
                    + " tokenizer.model alone are not enough");
        }
        byte[] json;
        try {
            json = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                "truncation", "true",
                "padding", "false",
                "maxLength", Integer.toString(maxLength),
                // DJL otherwise clamps maxLength to 512 with only a log warning.
                "modelMaxLength", Integer.toString(Math.max(maxLength, 512)));
        try {
            // The bytes are read once and given to DJL as a stream, so the pad id comes from the same file.
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
            return new Tokenizer(hf, maxLength, padId != null ? padId : padId(json, file), file);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a tokenizer.json DJL's tokenizers can load: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The pad id the file declares: its padding section, else the id of a usual pad token in the
     * vocabulary, else 0. Padding is masked out, so any valid id works; this keeps HF's choice.
     */
    private static int padId(byte[] json, Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        JsonNode padding = root.path("padding");
        if (padding.path("pad_id").isIntegralNumber()) {
            return padding.path("pad_id").asInt();
        }
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (String token : List.of("[PAD]", "<pad>", "<|pad|>", "<|endoftext|>")) {
                if (vocab.path(token).isIntegralNumber()) {
                    return vocab.path(token).asInt();
                }
            }
        }
        return 0;
    }

    /** Tokenizes one text. */
    public Encoded encode(String text) {
        return convert(tokenizer.encode(text));
    }

    /** Tokenizes many texts, in native batches that run on all cores; results in input order. */
    public List<Encoded> encodeAll(List<String> texts) {
        List<Encoded> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += CHUNK) {
            String[] chunk = new String[Math.min(CHUNK, texts.size() - from)];
            for (int k = 0; k < chunk.length; k++) {
                // Read as Object: a Groovy caller's List<String> may hold GStrings.
                Object text = texts.get(from + k);
                chunk[k] = text.toString();
            }
            for (Encoding e : tokenizer.batchEncode(chunk)) {
                out.add(convert(e));
            }
        }
        return out;
    }

    private static Encoded convert(Encoding e) {
        return new Encoded(toInts(e.getIds()), toInts(e.getTypeIds()), e.exceedMaxLength());
    }

    private static int[] toInts(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    /** Turns ids back into text (special tokens dropped), for messages and checks. */
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, true);
    }

    public int maxLength() {
        return maxLength;
    }

    /** The id put in padding positions (their attention mask is 0). */
    public int padId() {
        return padId;
    }

    /** The tokenizer.json this was loaded from. */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
