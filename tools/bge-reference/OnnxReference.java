import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The embedded ONNX model's own sentence vectors: ONNX Runtime runs the file, one sentence at a time
 * (no padding), and the [CLS] state of last_hidden_state is L2-normalised, as BGE's model card and
 * its sentence-transformers config pool it. Reads the token ids tokenize.py wrote; prints JSON.
 *
 * Usage: java -cp onnxruntime-1.20.0.jar OnnxReference.java MODEL_ONNX IDS_JSON > reference.json
 */
public class OnnxReference {

    public static void main(String[] args) throws Exception {
        List<long[]> rows = parse(Files.readString(Path.of(args[1])));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        StringBuilder out = new StringBuilder();
        out.append("{\"onnxruntime\": \"").append(env.getVersion()).append("\", \"ids\": ")
                .append(Files.readString(Path.of(args[1])).strip()).append(", \"cls_normalized\": [");
        try (OrtSession session = env.createSession(args[0], new OrtSession.SessionOptions())) {
            System.err.println("inputs " + session.getInputNames() + " outputs " + session.getOutputNames());
            for (int r = 0; r < rows.size(); r++) {
                long[] ids = rows.get(r);
                long[] ones = new long[ids.length];
                java.util.Arrays.fill(ones, 1);
                Map<String, OnnxTensor> in = new HashMap<>();
                in.put("input_ids", OnnxTensor.createTensor(env, new long[][] {ids}));
                in.put("attention_mask", OnnxTensor.createTensor(env, new long[][] {ones}));
                if (session.getInputNames().contains("token_type_ids")) {
                    in.put("token_type_ids", OnnxTensor.createTensor(env, new long[][] {new long[ids.length]}));
                }
                try (OrtSession.Result result = session.run(in)) {
                    float[][][] hidden = (float[][][]) result.get(0).getValue();   // (1, T, H)
                    float[] cls = hidden[0][0];
                    double norm = 0;
                    for (float v : cls) {
                        norm += (double) v * v;
                    }
                    norm = Math.sqrt(norm);
                    out.append(r == 0 ? "\n  [" : ",\n  [");
                    for (int i = 0; i < cls.length; i++) {
                        out.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.7g", cls[i] / norm));
                    }
                    out.append("]");
                }
            }
        }
        System.out.println(out.append("\n]}"));
    }

    private static List<long[]> parse(String json) {
        List<long[]> rows = new ArrayList<>();
        for (String row : json.replaceAll("\\s", "").replaceAll("^\\[\\[|\\]\\]$", "").split("\\],\\[")) {
            String[] parts = row.split(",");
            long[] ids = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                ids[i] = Long.parseLong(parts[i]);
            }
            rows.add(ids);
        }
        return rows;
    }
}
