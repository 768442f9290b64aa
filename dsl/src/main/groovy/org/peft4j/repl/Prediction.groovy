package org.peft4j.repl

/** A classifier's answer for one text: the most probable label and the probability of each. */
class Prediction {

    final String text
    final String label
    /** Softmax of the logits, by label in class-id order. */
    final Map<String, Double> probabilities

    Prediction(String text, List<String> labels, float[] logits) {
        this.text = text
        double max = logits.collect { it as double }.max()
        List<Double> e = logits.collect { Math.exp((it as double) - max) }
        double sum = e.sum() as double
        Map<String, Double> p = new LinkedHashMap<>()
        labels.eachWithIndex { String l, int i -> p[l] = e[i] / sum }
        this.probabilities = Collections.unmodifiableMap(p)
        this.label = p.max { it.value }.key
    }

    @Override
    String toString() {
        "${label}  (${probabilities.collect { k, v -> String.format('%s %.4f', k, v) }.join(', ')})"
    }
}
