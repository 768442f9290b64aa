package org.peft4j.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} set up for decoder language models: no special tokens
 * added behind the caller's back (templates write BOS and end-of-turn tokens themselves), no
 * truncation (the dataset truncates and counts), no padding (batches pad themselves).
 */
public final class CausalLmTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> addedTokens;
    private final Path file;

    private CausalLmTokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> addedTokens, Path file) {
        this.tokenizer = tokenizer;
        this.addedTokens = Collections.unmodifiableMap(addedTokens);
        this.file = file;
    }

    /** Loads {@code tokenizer.json} from a model directory, or the file itself. */
    public static CausalLmTokenizer load(Path modelDir) {
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve("tokenizer.json") : modelDir;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no tokenizer.json in " + modelDir + "; a Hugging Face model"
                    + " directory needs its tokenizer.json (the fast-tokenizer file)");
        }
        try {
            byte[] json = Files.readAllBytes(file);
            Map<String, Integer> added = new LinkedHashMap<>();
            for (JsonNode t : new ObjectMapper().readTree(json).path("added_tokens")) {
                added.put(t.path("content").asText(), t.path("id").asInt());
            }
            Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false",
                    "padding", "false", "modelMaxLength", Integer.toString(Integer.MAX_VALUE / 2));
            return new CausalLmTokenizer(HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options),
                    added, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a tokenizer.json DJL's tokenizers can load: "
                    + e.getMessage(), e);
        }
    }

    /** The ids of a text, special-token strings in it recognised as their single ids. */
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /** The text of ids, special tokens included (so a stop string can be one). */
    public String decode(int[] ids) {
        return tokenizer.decode(longs(ids), false);
    }

    /**
     * The text of ids as a reader sees it: special tokens ({@code <s>}, {@code <unk>}, {@code <|im_end|>},
     * every added token marked special) left out, as Transformers' {@code decode(ids, skip_special_tokens=True)}.
     */
    public String decodeText(int[] ids) {
        return tokenizer.decode(longs(ids), true);
    }

    private static long[] longs(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return longs;
    }

    /** The id of an added (special) token such as {@code <|im_end|>}, or -1 when the file has none. */
    public int tokenId(String token) {
        return addedTokens.getOrDefault(token, -1);
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
