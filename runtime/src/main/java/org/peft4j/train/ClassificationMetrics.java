package org.peft4j.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Accuracy, precision, recall and F1 from predicted and true class indices. With two classes the
 * positive class is the second label (e.g. "spam" in ['ham', 'spam']), as in a detection task;
 * with more, precision, recall and F1 are macro averages.
 */
public final class ClassificationMetrics {

    private ClassificationMetrics() {
    }

    public static Map<String, Double> compute(int[] predicted, int[] gold, int numLabels) {
        if (predicted.length != gold.length) {
            throw new IllegalArgumentException(predicted.length + " predictions for " + gold.length + " labels");
        }
        long[][] confusion = new long[numLabels][numLabels];
        long correct = 0;
        for (int i = 0; i < gold.length; i++) {
            confusion[gold[i]][predicted[i]]++;
            if (gold[i] == predicted[i]) {
                correct++;
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("accuracy", gold.length == 0 ? 0 : (double) correct / gold.length);
        if (numLabels == 2) {
            double[] prf = prf(confusion, 1);
            out.put("precision", prf[0]);
            out.put("recall", prf[1]);
            out.put("f1", prf[2]);
        } else {
            double p = 0, r = 0, f = 0;
            for (int c = 0; c < numLabels; c++) {
                double[] prf = prf(confusion, c);
                p += prf[0];
                r += prf[1];
                f += prf[2];
            }
            out.put("precision", p / numLabels);
            out.put("recall", r / numLabels);
            out.put("f1", f / numLabels);
        }
        out.put("examples", (double) gold.length);
        return out;
    }

    private static double[] prf(long[][] confusion, int c) {
        long tp = confusion[c][c];
        long predictedC = 0;
        long goldC = 0;
        for (int i = 0; i < confusion.length; i++) {
            predictedC += confusion[i][c];
            goldC += confusion[c][i];
        }
        double precision = predictedC == 0 ? 0 : (double) tp / predictedC;
        double recall = goldC == 0 ? 0 : (double) tp / goldC;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new double[] {precision, recall, f1};
    }
}
