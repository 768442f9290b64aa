package org.peft4j.models.gpt2;

import org.peft4j.models.core.CommonFields;
import org.peft4j.models.core.ConfigFields;
import org.peft4j.models.core.ModelConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a GPT-2 decoder, as in a Hugging Face {@code config.json} (field names n_embd,
 * n_layer, ...). Every instance is valid.
 *
 * @param nEmbd        H, the width of the residual stream
 * @param nLayer       number of blocks
 * @param nHead        nh; H must be a multiple of it
 * @param nInner       width of the feed-forward layer (4 H unless given)
 * @param nPositions   rows of the learned position embedding: the longest sequence
 * @param vocabSize    V
 * @param layerNormEps epsilon of every LayerNorm
 * @param residPdrop   dropout on sub-layer outputs
 * @param embdPdrop    dropout on the embeddings
 * @param attnPdrop    dropout on attention probabilities
 * @param common       the fields every config carries
 */
public record GPT2Config(int nEmbd, int nLayer, int nHead, int nInner, int nPositions, int vocabSize,
                         double layerNormEps, double residPdrop, double embdPdrop, double attnPdrop,
                         CommonFields common) implements ModelConfig {

    public GPT2Config {
        List<String> p = problems(nEmbd, nLayer, nHead, nInner, nPositions, vocabSize, layerNormEps, residPdrop,
                embdPdrop, attnPdrop);
        if (!p.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", p));
        }
    }

    @Override
    public int hiddenSize() {
        return nEmbd;
    }

    @Override
    public int numLayers() {
        return nLayer;
    }

    @Override
    public int numHeads() {
        return nHead;
    }

    @Override
    public int maxPositions() {
        return nPositions;
    }

    @Override
    public long embeddingParameters() {
        return (long) nEmbd * (vocabSize + nPositions);
    }

    public int headSize() {
        return nEmbd / nHead;
    }

    /** Reads a Hugging Face {@code config.json}; defaults are transformers' GPT2Config. */
    public static GPT2Config read(Path file) throws IOException {
        ConfigFields f = ConfigFields.read(file, "GPT-2");
        CommonFields common = CommonFields.read(f, null);
        String type = common.modelType();
        if (!"gpt2".equals(type)) {
            f.problem("model_type = " + (type == null ? "(missing)" : "'" + type + "'")
                    + " is not supported by the GPT-2 loader; valid: 'gpt2'");
        }
        String act = f.string("activation_function", "gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            f.problem("activation_function = '" + act + "' is not supported; valid: 'gelu_new' (tanh approximation)");
        }
        if (!f.bool("tie_word_embeddings", true)) {
            f.problem("tie_word_embeddings = false is not supported; GPT-2's LM head is the token embedding");
        }
        if (!f.bool("scale_attn_weights", true) || f.bool("scale_attn_by_inverse_layer_idx", false)
                || f.bool("reorder_and_upcast_attn", false)) {
            f.problem("only GPT-2's standard attention scaling 1/√hs is supported (scale_attn_weights = true,"
                    + " scale_attn_by_inverse_layer_idx = false, reorder_and_upcast_attn = false)");
        }
        int h = f.integer("n_embd", null);
        int layers = f.integer("n_layer", null);
        int heads = f.integer("n_head", null);
        int inner = f.integer("n_inner", 4 * h);
        int positions = f.integer("n_positions", 1024);
        int vocab = f.integer("vocab_size", 50257);
        double eps = f.number("layer_norm_epsilon", 1e-5);
        double resid = f.number("resid_pdrop", 0.1);
        double embd = f.number("embd_pdrop", 0.1);
        double attn = f.number("attn_pdrop", 0.1);
        f.throwIfAny(f.hasProblems() ? List.of()
                : problems(h, layers, heads, inner, positions, vocab, eps, resid, embd, attn));
        return new GPT2Config(h, layers, heads, inner, positions, vocab, eps, resid, embd, attn, common);
    }

    private static List<String> problems(int h, int layers, int heads, int inner, int positions, int vocab, double eps,
                                         double resid, double embd, double attn) {
        List<String> p = new ArrayList<>();
        if (h <= 0 || layers <= 0 || heads <= 0 || inner <= 0 || positions <= 0 || vocab <= 0) {
            p.add("n_embd, n_layer, n_head, n_inner, n_positions and vocab_size must be > 0; got " + h + ", " + layers
                    + ", " + heads + ", " + inner + ", " + positions + ", " + vocab);
        } else if (h % heads != 0) {
            p.add("n_embd = " + h + " is not divisible by n_head = " + heads);
        }
        if (!(eps > 0)) {
            p.add("layer_norm_epsilon = " + eps + " must be > 0");
        }
        for (double d : new double[] {resid, embd, attn}) {
            if (!(d >= 0 && d < 1)) {
                p.add("dropout probabilities (resid_pdrop, embd_pdrop, attn_pdrop) must be in [0, 1); got " + d);
                break;
            }
        }
        return p;
    }
}
