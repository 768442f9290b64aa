package org.peft4j.export;

import org.peft4j.models.CausalLms;
import org.peft4j.models.bert.BertForSequenceClassification;
import org.peft4j.models.bert.BertModel;
import org.peft4j.models.roberta.RobertaModel;
import org.peft4j.nn.Module;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The one place where a merge loads a base model: a decoder, an encoder, or an encoder with a
 * sequence-classification head, by {@code config.json}'s {@code model_type}.
 */
final class BaseModels {

    private BaseModels() {
    }

    /** A Llama-family or GPT-2 directory, whose merge keeps the checkpoint's own names. */
    static boolean isDecoder(Path dir) throws IOException {
        String type = CausalLms.modelType(dir);
        return CausalLms.LLAMA_TYPES.contains(type) || CausalLms.GPT2_TYPE.equals(type);
    }

    static Module decoder(Path dir) throws IOException {
        return (Module) CausalLms.fromPretrained(dir);
    }

    /** The bare encoder (BERT or RoBERTa), as {@code embed} loads it. */
    static Module encoder(Path dir) throws IOException {
        return RobertaModel.MODEL_TYPES.contains(CausalLms.modelType(dir)) ? RobertaModel.fromPretrained(dir)
                : BertModel.fromPretrained(dir);
    }

    /** BERT with a {@code classifier} of {@code numLabels} outputs, as {@code predict} loads it. */
    static BertForSequenceClassification classifier(Path dir, int numLabels) throws IOException {
        return BertForSequenceClassification.fromPretrained(dir, numLabels, 0);
    }
}
