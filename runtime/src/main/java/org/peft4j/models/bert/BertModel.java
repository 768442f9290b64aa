package org.peft4j.models.bert;

import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.EncoderModel;
import org.peft4j.models.core.Task;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The BERT encoder (Devlin et al. 2019): {@code embeddings.*} and {@code encoder.layer.N.*}, positions
 * counted from 0. Returns the last hidden state; task heads sit on top.
 */
public final class BertModel extends EncoderModel {

    /** A model with placeholder weights (zeros, LayerNorms at identity). */
    public BertModel(NDManager manager, BertConfig config) {
        super(manager, config, false);
    }

    /**
     * Loads a Hugging Face directory (plain BertModel checkpoints and {@code bert.}-prefixed ones from
     * a task model; the pooler and the position-id buffer are not used).
     */
    public static BertModel fromPretrained(Path dir) throws IOException {
        return (BertModel) BertFamily.INSTANCE.load(dir, Task.ENCODER);
    }
}
