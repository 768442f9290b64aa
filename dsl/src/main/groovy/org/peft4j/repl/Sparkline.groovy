package org.peft4j.repl

/** A series as one line of block characters, lowest value ▁ to highest █, in at most {@code width} cells. */
final class Sparkline {

    private static final String BLOCKS = '▁▂▃▄▅▆▇█'

    private Sparkline() {
    }

    /** Each cell is the mean of the values it covers, so a long series keeps its shape. */
    static String of(List<? extends Number> values, int width = 60) {
        if (!values) {
            return ''
        }
        int cells = Math.min(width, values.size())
        List<Double> means = (0..<cells).collect { int c ->
            int from = (int) (c * values.size() / cells)
            int to = Math.max(from + 1, (int) ((c + 1) * values.size() / cells))
            values.subList(from, to).sum { it.doubleValue() } / (to - from)
        }
        double lo = means.min()
        double hi = means.max()
        means.collect { double v ->
            int k = hi == lo ? 3 : (int) Math.round((v - lo) / (hi - lo) * (BLOCKS.length() - 1))
            BLOCKS.charAt(k)
        }.join('')
    }
}
