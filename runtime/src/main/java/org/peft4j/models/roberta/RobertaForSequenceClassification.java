package org.peft4j.models.roberta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.peft4j.models.core.BertConfig;
import org.peft4j.models.core.SequenceClassifier;
import org.peft4j.nn.Module;

/**
 * Transformers' {@code RobertaForSequenceClassification} (and {@code XLMRobertaForSequenceClassification},
 * the same model under model_type xlm-roberta): the encoder without a pooler, then
 * {@link RobertaClassificationHead}. Children {@code roberta} and {@code classifier}.
 */
public final class RobertaForSequenceClassification extends Module implements SequenceClassifier {

    private final int numLabels;
    private final String architecture;

    /** A model with placeholder weights. */
    public RobertaForSequenceClassification(NDManager manager, BertConfig config, int numLabels) {
        if (numLabels < 1) {
            throw new IllegalArgumentException("numLabels = " + numLabels + " must be >= 1");
        }
        this.numLabels = numLabels;
        this.architecture = "xlm-roberta".equals(config.modelType()) ? "XLMRobertaForSequenceClassification"
                : "RobertaForSequenceClassification";
        addChild("roberta", new RobertaModel(manager, config, false));
        addChild("classifier", new RobertaClassificationHead(manager, config.hiddenSize(), config.classifierDropout(),
                numLabels));
    }

    public RobertaModel roberta() {
        return (RobertaModel) child("roberta");
    }

    @Override
    public int numLabels() {
        return numLabels;
    }

    @Override
    public String architecture() {
        return architecture;
    }

    @Override
    public NDArray forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        NDArray hidden = roberta().forward(inputIds, attentionMask, tokenTypeIds);          // (B, T, H)
        return ((RobertaClassificationHead) child("classifier")).forward(hidden);          // (B, numLabels)
    }
}
