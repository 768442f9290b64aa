package org.peft4j.data;

import java.util.List;

/**
 * Many tokenized texts in three flat int arrays (ids, type ids, offsets), so N texts cost a handful
 * of Java arrays rather than N objects or NDArrays.
 */
public final class TokenTable {

    private final int[] ids;
    private final int[] types;
    /** Text i's tokens are {@code [offsets[i], offsets[i + 1])}. */
    private final int[] offsets;
    private final long truncated;

    private TokenTable(List<Encoded> encoded) {
        offsets = new int[encoded.size() + 1];
        long total = 0;
        long cut = 0;
        for (int i = 0; i < encoded.size(); i++) {
            total += encoded.get(i).length();
            offsets[i + 1] = Math.toIntExact(total);
            cut += encoded.get(i).truncated() ? 1 : 0;
        }
        ids = new int[(int) total];
        types = new int[(int) total];
        for (int i = 0; i < encoded.size(); i++) {
            Encoded e = encoded.get(i);
            System.arraycopy(e.ids(), 0, ids, offsets[i], e.length());
            System.arraycopy(e.typeIds(), 0, types, offsets[i], e.length());
        }
        truncated = cut;
    }

    /** Tokenizes {@code texts} once, in native batches. */
    public static TokenTable of(List<String> texts, Tokenizer tokenizer) {
        return new TokenTable(tokenizer.encodeAll(texts));
    }

    public int size() {
        return offsets.length - 1;
    }

    public int length(int i) {
        return offsets[i + 1] - offsets[i];
    }

    /** Copies text i's ids and type ids into row buffers starting at {@code at}. */
    void copyInto(int i, long[] idRow, long[] typeRow, int at) {
        for (int k = offsets[i]; k < offsets[i + 1]; k++) {
            idRow[at + k - offsets[i]] = ids[k];
            typeRow[at + k - offsets[i]] = types[k];
        }
    }

    /** Texts cut at the tokenizer's maxLength. */
    public long truncated() {
        return truncated;
    }

    /** All tokens, special tokens included. */
    public long tokens() {
        return ids.length;
    }
}
