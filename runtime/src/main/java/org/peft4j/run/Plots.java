package org.peft4j.run;

import com.fasterxml.jackson.databind.JsonNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.peft4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PNG plots of a run, drawn from its metrics rows with XChart: the training loss (raw and
 * smoothed) with the validation loss, the learning rate, and the validation metrics, each against
 * the optimizer step. Rendering is headless, so it works on a server without a display.
 */
final class Plots {

    static final String LOSS = "loss.png";
    static final String LR = "lr.png";
    static final String EVAL = "eval.png";

    /** Smoothing of the plotted training loss, as TensorBoard's default (an exponential moving average). */
    private static final double SMOOTHING = 0.9;

    private Plots() {
    }

    /** Writes the plots that have data into {@code dir}; returns their file names. */
    static List<String> write(List<JsonNode> rows, int lastStep, Path dir) throws IOException {
        // must be set before the first AWT class loads; a server has no display
        System.setProperty("java.awt.headless", "true");
        Series trainLoss = new Series();
        Series lr = new Series();
        Map<String, Series> valid = new LinkedHashMap<>();
        for (JsonNode row : rows) {
            if ("train".equals(row.path("type").asText())) {
                trainLoss.add(row.path("step").asInt(), row.path("loss").asDouble());
                lr.add(row.path("step").asInt(), row.path("lr").asDouble());
            } else if ("eval".equals(row.path("type").asText()) && "valid".equals(row.path("split").asText())) {
                String when = row.path("when").asText();
                int step = when.equals("before") ? 0 : when.equals("after") ? lastStep : row.path("step").asInt();
                for (String m : new String[] {"loss", "accuracy", "f1", "precision", "recall"}) {
                    if (row.has(m)) {
                        valid.computeIfAbsent(m, k -> new Series()).add(step, row.get(m).asDouble());
                    }
                }
            }
        }
        List<String> written = new ArrayList<>();
        if (!trainLoss.isEmpty()) {
            XYChart c = chart("Loss", "loss");
            line(c, "train", trainLoss, false);
            line(c, "train (smoothed)", trainLoss.smoothed(SMOOTHING), false);
            if (valid.containsKey("loss")) {
                line(c, "valid", valid.get("loss"), true);
            }
            save(c, dir.resolve(LOSS));
            written.add(LOSS);

            XYChart l = chart("Learning rate", "lr");
            line(l, "lr", lr, false);
            save(l, dir.resolve(LR));
            written.add(LR);
        }
        valid.remove("loss");
        if (!valid.isEmpty()) {
            XYChart e = chart("Validation metrics", "value");
            valid.forEach((m, s) -> line(e, m, s, true));
            save(e, dir.resolve(EVAL));
            written.add(EVAL);
        }
        return written;
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(800).height(450).title(title).xAxisTitle("step").yAxisTitle(yTitle)
                .build();
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        c.getStyler().setPlotGridLinesVisible(true);
        return c;
    }

    private static void line(XYChart c, String name, Series s, boolean markers) {
        XYSeries xy = c.addSeries(name, s.xs(), s.ys());
        xy.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    }

    private static void save(XYChart c, Path file) throws IOException {
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(c, out, BitmapEncoder.BitmapFormat.PNG));
    }

    /** Points of one line. */
    private static final class Series {
        private final List<double[]> points = new ArrayList<>();

        void add(double x, double y) {
            points.add(new double[] {x, y});
        }

        boolean isEmpty() {
            return points.isEmpty();
        }

        double[] xs() {
            return points.stream().mapToDouble(p -> p[0]).toArray();
        }

        double[] ys() {
            return points.stream().mapToDouble(p -> p[1]).toArray();
        }

        /** Bias-corrected exponential moving average, so the first points are not pulled toward 0. */
        Series smoothed(double beta) {
            Series out = new Series();
            double avg = 0;
            for (int i = 0; i < points.size(); i++) {
                avg = beta * avg + (1 - beta) * points.get(i)[1];
                out.add(points.get(i)[0], avg / (1 - Math.pow(beta, i + 1)));
            }
            return out;
        }
    }
}
