package org.peft4j.cli

import org.peft4j.data.Tokenizer
import org.peft4j.embedding.PoolingMode
import org.peft4j.embedding.SentenceEncoder
import org.peft4j.config.ConfigException
import org.peft4j.peft.AdapterModel
import org.peft4j.peft.files.PeftAdapters

import java.nio.file.Path

/** embed's, eval's and eval-retrieval's model: an encoder (an embedded one, or a directory of any encoder family), its pooling, an optional adapter. */
final class Encoders {

    private Encoders() {
    }

    /** Parses --pooling; picocli's own enum message would list MEAN and CLS in capitals, which the help does not use. */
    static PoolingMode pooling(String name) {
        PoolingMode mode = PoolingMode.values().find { it.name().equalsIgnoreCase(name) }
        if (mode == null) {
            throw new UserError("--pooling '${name}' is not a pooling mode; valid: mean, cls")
        }
        mode
    }

    /** The encoder with its adapter; notes on the adapter (parts the pooling does not use) go to {@code notes}. */
    static SentenceEncoder load(Path modelDir, Path adapter, PoolingMode pooling, PrintWriter notes) {
        if (adapter != null) {
            Models.modelDir(adapter, 'adapter')
        }
        SentenceEncoder encoder = SentenceEncoder.load(modelDir, pooling)
        if (adapter != null) {
            // LoRA or AdaLoRA by peft_type; an adapter that does not fit raises a ConfigException listing every mismatch: exit 2
            try {
                AdapterModel loaded = PeftAdapters.load(adapter, encoder.model())
                List<String> unused = loaded.adaptedPaths().findAll { it.startsWith('pooler.') }
                if (unused) {
                    // PEFT's all-linear on AutoModel adapts BERT's pooler, which sentence pooling never reads
                    notes.println("note: ${adapter} adapts ${unused.join(', ')}, which ${pooling.name().toLowerCase()} pooling" +
                            ' does not use: those tensors are loaded but do not change the embeddings (only the pooler' +
                            ' output, which AutoModel returns as pooler_output)')
                    notes.flush()
                }
            } catch (ConfigException e) {
                throw e
            } catch (IllegalArgumentException e) {
                throw new UserError(e.message)
            }
        }
        encoder.model().train(false)
        encoder
    }

    /** The tokenizer, cut at --max-length or the model's positions, whichever is shorter. */
    static Tokenizer tokenizer(Path modelDir, SentenceEncoder encoder, int maxLength) {
        if (maxLength < 2) {
            throw new UserError("--max-length must be at least 2 (room for [CLS] and [SEP]), got ${maxLength}")
        }
        Tokenizer.load(modelDir, Math.min(maxLength, encoder.maxLength()))
    }
}
