package org.peft4j.models.roberta;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.EncoderModel;
import org.peft4j.models.core.Task;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The RoBERTa / XLM-RoBERTa encoder (Liu et al. 2019) with Hugging Face names ({@code embeddings.*},
 * {@code encoder.layer.N.*}, {@code pooler.*} when built with one): BERT's encoder, with positions
 * that count only real tokens and start after the padding index. Returns the last hidden state.
 */
public final class RobertaModel extends EncoderModel {

    /** An encoder without a pooler, as Transformers' RobertaForSequenceClassification builds it. */
    public RobertaModel(NDManager manager, BertConfig config) {
        super(manager, config, true, false);
    }

    /** An encoder with a pooler when {@code pooler}. */
    public RobertaModel(NDManager manager, BertConfig config, boolean pooler) {
        super(manager, config, true, pooler);
    }

    /** Loads an unmodified Hugging Face RoBERTa directory (bare or {@code roberta.}-prefixed names). */
    public static RobertaModel fromPretrained(Path dir) throws IOException {
        return (RobertaModel) RobertaFamily.INSTANCE.load(dir, Task.ENCODER);
    }
}
