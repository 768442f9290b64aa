package org.peft4j.peft.adalora;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where AdaLoRA's budget went: final ranks per layer × module type as a table and a heatmap (the
 * paper's Figure 1 style), and the budget b(t) against the triplets actually kept, step by step,
 * with the pruned triplets that came back at a later allocation (a plot and a CSV).
 */
public final class AllocationReport {

    public static final String HEATMAP = "adalora-ranks.png";
    public static final String BUDGET = "adalora-budget.png";
    public static final String BUDGET_CSV = "adalora-budget.csv";

    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layer|layers|h)\\.(\\d+)\\.(.+)$");

    /**
     * One point of the budget trace: after optimizer step {@code step}, the budget b(t), the triplets
     * kept, and how many of those were pruned before and came back at this step's allocation.
     */
    public record Point(int step, int budget, int kept, int returned) {
    }

    private final List<Point> trace = new ArrayList<>();

    /** Records the state after an optimizer step. */
    public void record(int step, int budget, int kept, int returned) {
        trace.add(new Point(step, budget, kept, returned));
    }

    public List<Point> trace() {
        return trace;
    }

    /** Times a pruned triplet came back at a later allocation, over the whole trace. */
    public int returns() {
        return trace.stream().mapToInt(Point::returned).sum();
    }

    /** The trace as an INT32 array [steps, 4] (step, budget, kept, returned), for a checkpoint. */
    public NDArray toArray(NDManager manager) {
        int[] flat = new int[trace.size() * 4];
        for (int i = 0; i < trace.size(); i++) {
            Point p = trace.get(i);
            System.arraycopy(new int[] {p.step(), p.budget(), p.kept(), p.returned()}, 0, flat, 4 * i, 4);
        }
        return manager.create(flat, new Shape(trace.size(), 4));
    }

    /** Replaces the trace with one that {@link #toArray} gave. */
    public void restore(NDArray saved) {
        if (saved.getShape().dimension() != 2 || saved.getShape().get(1) != 4) {
            throw new IllegalArgumentException("a budget trace is [steps, 4], not " + saved.getShape());
        }
        int[] flat = saved.toType(DataType.INT32, false).toIntArray();
        trace.clear();
        for (int i = 0; i < flat.length; i += 4) {
            trace.add(new Point(flat[i], flat[i + 1], flat[i + 2], flat[i + 3]));
        }
    }

    /** The trace as CSV: {@code step,budget,kept,returned}, one line per optimizer step. */
    public String csv() {
        StringBuilder sb = new StringBuilder("step,budget,kept,returned\n");
        trace.forEach(p -> sb.append(p.step()).append(',').append(p.budget()).append(',').append(p.kept())
                .append(',').append(p.returned()).append('\n'));
        return sb.toString();
    }

    /** Final ranks by layer index, then by module type (the path after the layer index). */
    public static Map<Integer, Map<String, Integer>> grid(Map<String, Integer> ranks) {
        Map<Integer, Map<String, Integer>> g = new java.util.TreeMap<>();
        ranks.forEach((path, r) -> {
            Matcher m = LAYER.matcher(path);
            boolean hit = m.find();
            int layer = hit ? Integer.parseInt(m.group(1)) : -1;
            String type = hit ? m.group(2) : path;
            g.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(type, r);
        });
        return g;
    }

    /** A plain-text table: one row per layer, one column per module type. */
    public static String table(Map<String, Integer> ranks, int initR) {
        Map<Integer, Map<String, Integer>> g = grid(ranks);
        TreeSet<String> types = new TreeSet<>();
        g.values().forEach(row -> types.addAll(row.keySet()));
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-6s", "layer"));
        for (String t : types) {
            sb.append(String.format(" %18s", shortName(t)));
        }
        sb.append(String.format(" %6s%n", "sum"));
        int total = 0;
        for (Map.Entry<Integer, Map<String, Integer>> row : g.entrySet()) {
            sb.append(String.format("%-6s", row.getKey() < 0 ? "-" : row.getKey().toString()));
            int sum = 0;
            for (String t : types) {
                Integer r = row.getValue().get(t);
                sb.append(String.format(" %18s", r == null ? "" : r + "/" + initR));
                sum += r == null ? 0 : r;
            }
            total += sum;
            sb.append(String.format(" %6d%n", sum));
        }
        sb.append(String.format("kept %d of %d triplets%n", total, initR * ranks.size()));
        return sb.toString();
    }

    /** Writes the heatmap and (when there is a trace) the budget plot into {@code dir}; returns the file names. */
    public List<String> write(Map<String, Integer> ranks, int initR, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> written = new ArrayList<>();
        Map<Integer, Map<String, Integer>> g = grid(ranks);
        List<String> types = new ArrayList<>(new TreeSet<>(g.values().stream().flatMap(r -> r.keySet().stream()).toList()));
        List<Integer> layers = new ArrayList<>(g.keySet());
        if (!types.isEmpty()) {
            List<Number[]> cells = new ArrayList<>();
            for (int x = 0; x < types.size(); x++) {
                for (int y = 0; y < layers.size(); y++) {
                    Integer r = g.get(layers.get(y)).get(types.get(x));
                    cells.add(new Number[] {x, y, r == null ? 0 : r});
                }
            }
            HeatMapChart c = new HeatMapChartBuilder().width(720).height(120 + 60 * layers.size())
                    .title("AdaLoRA final rank per layer and module (of " + initR + ")")
                    .xAxisTitle("module").yAxisTitle("layer").build();
            c.getStyler().setShowValue(true);
            c.getStyler().setMin(0);
            c.getStyler().setMax(initR);
            c.getStyler().setRangeColors(new Color[] {new Color(0xF7FBFF), new Color(0x6BAED6), new Color(0x08306B)});
            c.getStyler().setChartBackgroundColor(Color.WHITE);
            c.addSeries("rank", types.stream().map(AllocationReport::shortName).toList(),
                    layers.stream().map(l -> l < 0 ? "-" : l.toString()).toList(), cells);
            BitmapEncoder.saveBitmap(c, dir.resolve(HEATMAP).toString(), BitmapEncoder.BitmapFormat.PNG);
            written.add(HEATMAP);
        }
        if (!trace.isEmpty()) {
            XYChart c = new XYChartBuilder().width(720).height(400).title("AdaLoRA budget b(t) and triplets kept")
                    .xAxisTitle("optimizer step").yAxisTitle("triplets").build();
            c.getStyler().setChartBackgroundColor(Color.WHITE);
            double[] steps = trace.stream().mapToDouble(Point::step).toArray();
            XYSeries b = c.addSeries("budget b(t)", steps, trace.stream().mapToDouble(Point::budget).toArray());
            b.setMarker(SeriesMarkers.NONE);
            XYSeries k = c.addSeries("kept", steps, trace.stream().mapToDouble(Point::kept).toArray());
            k.setMarker(SeriesMarkers.NONE);
            double[] back = new double[trace.size()];
            for (int i = 0; i < back.length; i++) {
                back[i] = (i == 0 ? 0 : back[i - 1]) + trace.get(i).returned();
            }
            XYSeries r = c.addSeries("pruned, then back (cumulative)", steps, back);
            r.setMarker(SeriesMarkers.NONE);
            BitmapEncoder.saveBitmap(c, dir.resolve(BUDGET).toString(), BitmapEncoder.BitmapFormat.PNG);
            written.add(BUDGET);
            Files.writeString(dir.resolve(BUDGET_CSV), csv());
            written.add(BUDGET_CSV);
        }
        return written;
    }

    /** "attention.self.query.lora_E" → "attention.self.query" (the table reads better without the tensor name). */
    private static String shortName(String type) {
        return type.replaceAll("\\.lora_[A-Z]$", "");
    }
}
