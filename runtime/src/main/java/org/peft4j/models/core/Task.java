package org.peft4j.models.core;

/**
 * What a model is built for, and so which head it carries and what it is used as ({@code M}).
 *
 * @param <M> the model's interface: {@link CausalLm}, {@link SequenceClassifier} or {@link TokenEncoder}
 */
public final class Task<M> {

    /** The kinds of task; a family supports some of them. */
    public enum Kind {
        /** Next-token logits. */
        CAUSAL_LM("causal language model"),
        /** A classification head over the sequence. */
        SEQUENCE_CLASSIFICATION("sequence classifier"),
        /** The bare encoder's token states, for sentence embeddings. */
        ENCODER("encoder");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A causal language model. */
    public static final Task<CausalLm> CAUSAL_LM = new Task<>(Kind.CAUSAL_LM, CausalLm.class, 0, 0);
    /** A bare encoder. */
    public static final Task<TokenEncoder> ENCODER = new Task<>(Kind.ENCODER, TokenEncoder.class, 0, 0);

    private final Kind kind;
    private final Class<M> type;
    private final int numLabels;
    private final long seed;

    private Task(Kind kind, Class<M> type, int numLabels, long seed) {
        this.kind = kind;
        this.type = type;
        this.numLabels = numLabels;
        this.seed = seed;
    }

    /**
     * A classifier with {@code numLabels} outputs; a head the checkpoint lacks starts from weights
     * drawn from {@code seed}.
     */
    public static Task<SequenceClassifier> sequenceClassification(int numLabels, long seed) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        return new Task<>(Kind.SEQUENCE_CLASSIFICATION, SequenceClassifier.class, numLabels, seed);
    }

    public Kind kind() {
        return kind;
    }

    /** The interface the built model implements. */
    public Class<M> type() {
        return type;
    }

    /** The classifier's outputs (classification only). */
    public int numLabels() {
        return numLabels;
    }

    /** The seed of a fresh head (classification only). */
    public long seed() {
        return seed;
    }

    @Override
    public String toString() {
        return kind == Kind.SEQUENCE_CLASSIFICATION ? kind.label() + " (" + numLabels + " labels)" : kind.label();
    }
}
