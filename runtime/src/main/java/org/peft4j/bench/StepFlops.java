package org.peft4j.bench;

import org.peft4j.models.bert.BertConfig;
import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.util.Map;

/**
 * Matrix-multiply FLOPs of one step of a sequence classifier, counted from its module tree:
 * a linear costs 2·N·in·out forward; training adds as much again for the input gradient, and as
 * much again for the weight gradient only when its weight trains. Attention costs two matmuls of
 * 2·B·T²·H forward and twice that backward. Elementwise ops are not counted (the usual "model FLOPs").
 */
public final class StepFlops {

    private StepFlops() {
    }

    public static double training(Module model, BertConfig config, int batch, int seqLen) {
        return count(model, config, batch, seqLen, true);
    }

    public static double inference(Module model, BertConfig config, int batch, int seqLen) {
        return count(model, config, batch, seqLen, false);
    }

    private static double count(Module model, BertConfig config, int batch, int seqLen, boolean training) {
        double tokens = (double) batch * seqLen;
        double total = 0;
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            if (e.getValue() instanceof Linear l) {
                // the head sees one pooled vector per example, every other linear sees every token
                double n = e.getKey().startsWith("classifier") ? batch : tokens;
                double f = 2 * n * l.inFeatures() * l.outFeatures();
                total += training ? f + f + (l.weight().trainable() ? f : 0) : f;
            }
        }
        double attention = 2 * 2.0 * batch * seqLen * (double) seqLen * config.hiddenSize() * config.numHiddenLayers();
        return total + (training ? 3 * attention : attention);
    }
}
