package org.peft4j.models.bert;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.EncoderModel;
import org.peft4j.models.core.Task;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The BERT encoder (Devlin et al. 2019): {@code embeddings.*}, {@code encoder.layer.N.*} and, when
 * built with one, {@code pooler.*}; positions counted from 0. Returns the last hidden state; task
 * heads sit on top.
 */
public final class BertModel extends EncoderModel {

    /** An encoder without a pooler, with placeholder weights (zeros, LayerNorms at identity). */
    public BertModel(NDManager manager, BertConfig config) {
        super(manager, config, false, false);
    }

    /** An encoder with placeholder weights, with a pooler when {@code pooler}. */
    public BertModel(NDManager manager, BertConfig config, boolean pooler) {
        super(manager, config, false, pooler);
    }

    /**
     * Loads a Hugging Face directory (plain BertModel checkpoints and {@code bert.}-prefixed ones from
     * a task model), with the pooler when the checkpoint has one; the position-id buffer is not used.
     */
    public static BertModel fromPretrained(Path dir) throws IOException {
        return (BertModel) BertFamily.INSTANCE.load(dir, Task.ENCODER);
    }
}
