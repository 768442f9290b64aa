package org.peft4j.bench;

import org.peft4j.nn.Linear;
import org.peft4j.nn.Module;

import java.util.Map;

/**
 * Matrix-multiply FLOPs of one step, counted from the module tree: a linear costs 2·N·in·out
 * forward; training adds as much again for the input gradient, and as much again for the weight
 * gradient only when its weight trains. Attention costs two matmuls of 2·B·T²·W forward (W = heads ×
 * head size) and twice that backward. Elementwise ops are not counted (the usual "model FLOPs").
 */
public final class StepFlops {

    private StepFlops() {
    }

    /**
     * @param pooledHead     a linear that sees one pooled vector per example instead of every token ("classifier"), or null
     * @param layers         attention layers
     * @param attentionWidth heads × head size
     */
    public static double count(Module model, int batch, int seqLen, String pooledHead, int layers, int attentionWidth,
                               boolean training) {
        double tokens = (double) batch * seqLen;
        double total = 0;
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            if (e.getValue() instanceof Linear l) {
                double n = pooledHead != null && e.getKey().startsWith(pooledHead) ? batch : tokens;
                double f = 2 * n * l.inFeatures() * l.outFeatures();
                total += training ? f + f + (l.weight().trainable() ? f : 0) : f;
            }
        }
        double attention = 2 * 2.0 * batch * seqLen * (double) seqLen * attentionWidth * layers;
        return total + (training ? 3 * attention : attention);
    }
}
