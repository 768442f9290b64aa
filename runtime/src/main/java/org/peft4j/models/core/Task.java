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
    public static final Task<CausalLm> CAUSAL_LM = new Task<>(Kind.CAUSAL_LM, CausalLm.class, 0, 0, null);
    /** A bare encoder. */
    public static final Task<TokenEncoder> ENCODER = new Task<>(Kind.ENCODER, TokenEncoder.class, 0, 0, null);

    private final Kind kind;
    private final Class<M> type;
    private final int numLabels;
    private final long seed;
    private final ClassifierHead head;

    private Task(Kind kind, Class<M> type, int numLabels, long seed, ClassifierHead head) {
        this.kind = kind;
        this.type = type;
        this.numLabels = numLabels;
        this.seed = seed;
        this.head = head;
    }

    /**
     * A classifier with {@code numLabels} outputs and the family's Transformers head; the parts of
     * the head the checkpoint lacks start from weights drawn from {@code seed}.
     */
    public static Task<SequenceClassifier> sequenceClassification(int numLabels, long seed) {
        return sequenceClassification(numLabels, seed, ClassifierHead.TRANSFORMERS);
    }

    /** A classifier with {@code numLabels} outputs and the given head. */
    public static Task<SequenceClassifier> sequenceClassification(int numLabels, long seed, ClassifierHead head) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        if (head == null) {
            throw new IllegalArgumentException("head must be given; valid: " + ClassifierHead.labels());
        }
        return new Task<>(Kind.SEQUENCE_CLASSIFICATION, SequenceClassifier.class, numLabels, seed, head);
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

    /** The classifier's head (classification only; null for other tasks). */
    public ClassifierHead head() {
        return head;
    }

    @Override
    public String toString() {
        return kind == Kind.SEQUENCE_CLASSIFICATION
                ? kind.label() + " (" + numLabels + " labels, " + head.label() + " head)" : kind.label();
    }
}
