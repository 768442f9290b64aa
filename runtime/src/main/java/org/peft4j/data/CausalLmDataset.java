package org.peft4j.data;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tokenized examples for causal-LM fine-tuning: ids and labels, with the label −100 on every
 * token that is only read (prompt, role headers, other turns) so that the loss covers the
 * responses alone. Sources: Alpaca-style instruction JSONL ({@code instruction}, {@code input},
 * {@code output}), chat JSONL ({@code messages}: [{role, content}]), and plain texts (all learned).
 *
 * <p>Examples longer than {@code maxLength} are cut at the end and counted as truncated; an example
 * that has no learned token left after the cut is dropped and counted, since it could teach nothing.
 */
public final class CausalLmDataset {

    /** The label of a token that carries no loss (as in HF and PyTorch's cross-entropy ignore_index). */
    public static final int IGNORE = -100;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<int[]> ids;
    private final List<int[]> labels;
    private final int truncated;
    private final int dropped;
    private final int padId;

    private CausalLmDataset(List<int[]> ids, List<int[]> labels, int truncated, int dropped, int padId) {
        this.ids = ids;
        this.labels = labels;
        this.truncated = truncated;
        this.dropped = dropped;
        this.padId = padId;
    }

    /** Conversations rendered with {@code template}; only assistant turns are learned. */
    public static CausalLmDataset fromChats(List<List<ChatMessage>> chats, CausalLmTokenizer tokenizer,
                                            ChatTemplate template, int maxLength, int padId) {
        Builder b = new Builder(tokenizer, maxLength);
        for (List<ChatMessage> chat : chats) {
            b.add(template.render(chat, false));
        }
        return b.build(padId);
    }

    /** Plain texts, every token learned; {@code eosId} (when ≥ 0) is appended so the model learns to stop. */
    public static CausalLmDataset fromTexts(List<String> texts, CausalLmTokenizer tokenizer, int maxLength, int eosId,
                                            int padId) {
        Builder b = new Builder(tokenizer, maxLength);
        for (String text : texts) {
            int[] t = tokenizer.encode(text);
            if (eosId >= 0) {
                t = Arrays.copyOf(t, t.length + 1);
                t[t.length - 1] = eosId;
            }
            b.addTokens(t, t.clone());
        }
        return b.build(padId);
    }

    /**
     * An Alpaca-style row as a two-turn chat: the user says the instruction (and the input, after
     * a blank line, when there is one), the assistant answers the output.
     */
    public static List<ChatMessage> instructionChat(String instruction, String input, String output) {
        String prompt = input == null || input.isBlank() ? instruction : instruction + "\n\n" + input;
        return List.of(new ChatMessage("user", prompt), new ChatMessage("assistant", output));
    }

    /** Reads an instruction JSONL file ({@code instruction}, optional {@code input}, {@code output}). */
    public static List<List<ChatMessage>> readInstructions(Path file) {
        List<List<ChatMessage>> out = new ArrayList<>();
        readJsonl(file, (line, row) -> out.add(instructionChat(text(file, line, row, "instruction", true),
                text(file, line, row, "input", false), text(file, line, row, "output", true))));
        return out;
    }

    /** Reads a chat JSONL file: each line {@code {"messages": [{"role": ..., "content": ...}, ...]}}. */
    public static List<List<ChatMessage>> readChats(Path file) {
        List<List<ChatMessage>> out = new ArrayList<>();
        readJsonl(file, (line, row) -> {
            JsonNode messages = row.path("messages");
            if (!messages.isArray() || messages.isEmpty()) {
                throw new DataFileException(file, line, "expected \"messages\": a non-empty array of {role, content}");
            }
            List<ChatMessage> chat = new ArrayList<>();
            for (JsonNode m : messages) {
                chat.add(new ChatMessage(text(file, line, m, "role", true), text(file, line, m, "content", true)));
            }
            if (chat.stream().noneMatch(ChatMessage::isAssistant)) {
                throw new DataFileException(file, line, "no assistant message: nothing to learn from this chat");
            }
            out.add(chat);
        });
        return out;
    }

    /** Reads the string field {@code field} of every line of a JSONL file (plain-text training). */
    public static List<String> readTexts(Path file, String field) {
        List<String> out = new ArrayList<>();
        readJsonl(file, (line, row) -> out.add(text(file, line, row, field, true)));
        return out;
    }

    private interface RowHandler {
        void accept(long line, JsonNode row);
    }

    private static void readJsonl(Path file, RowHandler handler) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long line = 0;
            for (String s = r.readLine(); s != null; s = r.readLine()) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                JsonNode row;
                try {
                    row = JSON.readTree(s);
                } catch (IOException e) {
                    throw new DataFileException(file, line, "not valid JSON: " + e.getMessage());
                }
                if (row == null || !row.isObject()) {
                    throw new DataFileException(file, line, "expected a JSON object");
                }
                handler.accept(line, row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String text(Path file, long line, JsonNode row, String field, boolean required) {
        JsonNode n = row.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw new DataFileException(file, line, "field \"" + field + "\" is missing");
            }
            return "";
        }
        if (!n.isTextual()) {
            throw new DataFileException(file, line, "field \"" + field + "\" must be a string, got " + n);
        }
        return n.textValue();
    }

    /** Tokenizes segments one by one and concatenates, so every token knows whether it is learned. */
    private static final class Builder {
        final CausalLmTokenizer tokenizer;
        final int maxLength;
        final List<int[]> ids = new ArrayList<>();
        final List<int[]> labels = new ArrayList<>();
        int truncated;
        int dropped;

        Builder(CausalLmTokenizer tokenizer, int maxLength) {
            if (maxLength < 2) {
                throw new IllegalArgumentException("maxLength = " + maxLength + " must be >= 2");
            }
            this.tokenizer = tokenizer;
            this.maxLength = maxLength;
        }

        void add(List<PromptSegment> segments) {
            List<int[]> parts = new ArrayList<>();
            List<Boolean> learned = new ArrayList<>();
            int n = 0;
            for (PromptSegment s : segments) {
                int[] t = tokenizer.encode(s.text());
                parts.add(t);
                learned.add(s.learned());
                n += t.length;
            }
            int[] tokens = new int[n];
            int[] lab = new int[n];
            int at = 0;
            for (int p = 0; p < parts.size(); p++) {
                int[] t = parts.get(p);
                System.arraycopy(t, 0, tokens, at, t.length);
                if (learned.get(p)) {
                    System.arraycopy(t, 0, lab, at, t.length);
                } else {
                    Arrays.fill(lab, at, at + t.length, IGNORE);
                }
                at += t.length;
            }
            addTokens(tokens, lab);
        }

        void addTokens(int[] tokens, int[] lab) {
            if (tokens.length > maxLength) {
                truncated++;
                tokens = Arrays.copyOf(tokens, maxLength);
                lab = Arrays.copyOf(lab, maxLength);
            }
            // the first token is never predicted (nothing precedes it), so it alone teaches nothing
            boolean learns = false;
            for (int i = 1; i < lab.length && !learns; i++) {
                learns = lab[i] != IGNORE;
            }
            if (!learns) {
                dropped++;
                return;
            }
            ids.add(tokens);
            labels.add(lab);
        }

        CausalLmDataset build(int padId) {
            return new CausalLmDataset(ids, labels, truncated, dropped, padId);
        }
    }

    public int size() {
        return ids.size();
    }

    /**
     * The examples concatenated in order and cut into blocks of {@code blockLength} tokens (the last
     * one shorter), so that a batch holds no padding; labels travel with their tokens, so what is
     * learned stays learned. As in GPT-2's and nanoGPT's training, a block may span two examples and
     * attend across their boundary. A block with nothing to learn is dropped and counted.
     */
    public CausalLmDataset packed(int blockLength) {
        if (blockLength < 2) {
            throw new IllegalArgumentException("blockLength = " + blockLength + " must be >= 2");
        }
        int total = ids.stream().mapToInt(a -> a.length).sum();
        int[] allIds = new int[total];
        int[] allLabels = new int[total];
        int at = 0;
        for (int i = 0; i < ids.size(); i++) {
            System.arraycopy(ids.get(i), 0, allIds, at, ids.get(i).length);
            System.arraycopy(labels.get(i), 0, allLabels, at, labels.get(i).length);
            at += ids.get(i).length;
        }
        List<int[]> blockIds = new ArrayList<>();
        List<int[]> blockLabels = new ArrayList<>();
        int empty = 0;
        for (int from = 0; from < total; from += blockLength) {
            int to = Math.min(total, from + blockLength);
            int[] l = Arrays.copyOfRange(allLabels, from, to);
            boolean learns = false;
            for (int k = 1; k < l.length && !learns; k++) {
                learns = l[k] != IGNORE;
            }
            if (!learns) {
                empty++;
                continue;
            }
            blockIds.add(Arrays.copyOfRange(allIds, from, to));
            blockLabels.add(l);
        }
        return new CausalLmDataset(blockIds, blockLabels, truncated, dropped + empty, padId);
    }

    /** Tokens in all examples. */
    public long tokens() {
        return ids.stream().mapToLong(a -> a.length).sum();
    }

    /** Tokens whose label is learned (the first token of an example is never predicted, but is counted here). */
    public long learnedTokens() {
        return labels.stream().mapToLong(l -> Arrays.stream(l).filter(x -> x != IGNORE).count()).sum();
    }

    /** The ids of example i (a copy). */
    public int[] ids(int i) {
        return ids.get(i).clone();
    }

    /** The labels of example i (a copy): the id where learned, {@link #IGNORE} elsewhere. */
    public int[] labels(int i) {
        return labels.get(i).clone();
    }

    /** Examples cut to maxLength (kept). */
    public int truncated() {
        return truncated;
    }

    /** Examples left out because no learned token remained after truncation. */
    public int dropped() {
        return dropped;
    }

    /** One line for logs and {@code check}: how many examples, tokens, and what truncation did. */
    public String report() {
        long tokens = ids.stream().mapToLong(a -> a.length).sum();
        long learned = labels.stream().mapToLong(l -> Arrays.stream(l).filter(x -> x != IGNORE).count()).sum();
        return size() + " examples, " + tokens + " tokens (" + learned + " learned); " + truncated
                + " truncated to maxLength, " + dropped + " dropped with no response token left";
    }

    /**
     * The examples at {@code indices} as one batch padded to its longest example, with
     * {@link #IGNORE} labels and a 0 mask on padding. Arrays are made in {@code manager}.
     */
    public CausalLmBatch batch(int[] indices, NDManager manager, PaddingSide side) {
        int rows = indices.length;
        int width = 0;
        for (int i : indices) {
            width = Math.max(width, ids.get(i).length);
        }
        long[] tok = new long[rows * width];
        long[] mask = new long[rows * width];
        long[] lab = new long[rows * width];
        Arrays.fill(tok, padId);
        Arrays.fill(lab, IGNORE);
        long tokens = 0;
        long learned = 0;
        for (int r = 0; r < rows; r++) {
            int[] t = ids.get(indices[r]);
            int[] l = labels.get(indices[r]);
            int start = r * width + (side == PaddingSide.LEFT ? width - t.length : 0);
            for (int k = 0; k < t.length; k++) {
                tok[start + k] = t[k];
                lab[start + k] = l[k];
                mask[start + k] = 1;
                learned += l[k] != IGNORE ? 1 : 0;
            }
            tokens += t.length;
        }
        Shape shape = new Shape(rows, width);
        return new CausalLmBatch(manager.create(tok, shape), manager.create(mask, shape), manager.create(lab, shape),
                tokens, learned);
    }
}
