package org.peft4j.cli

import groovy.json.JsonOutput
import org.peft4j.data.RetrievalSet
import org.peft4j.data.Tokenizer
import org.peft4j.embedding.PoolingMode
import org.peft4j.embedding.RetrievalEvaluator
import org.peft4j.embedding.SentenceEncoder
import org.peft4j.io.AtomicFiles
import org.peft4j.tensor.Backend
import picocli.CommandLine.Command
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Path
import java.util.concurrent.Callable

/** Retrieval quality of a sentence encoder on a query file and a corpus file. */
@Command(name = 'eval-retrieval', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Rank the corpus for every query by cosine similarity of their sentence vectors and print recall@1/5/10,',
                'MRR@10 and nDCG@10 (linear gain, as trec_eval and BEIR), averaged over the queries.',
                'Corpus lines: {"id": "d1", "text": "..."}; query lines: {"id": "q1", "text": "...", "relevant": ["d1"]}',
                '(or graded: "relevant": {"d1": 2, "d7": 1}).'],
        footer = ['', 'Examples:', '  peft4j eval-retrieval --model minilm --queries queries.jsonl --corpus corpus.jsonl',
                '  peft4j eval-retrieval --model minilm --adapter runs/infonce/adapter --queries q.jsonl --corpus c.jsonl --json metrics.json',
                '', 'Exit codes: 0 evaluated, 1 evaluation failed, 2 a usage or input mistake (missing file, bad line, unknown document id).'])
class EvalRetrievalCommand implements Callable<Integer> {

    @Option(names = '--model', required = true, paramLabel = 'MODEL', description = "'minilm' or 'bge-small-en' (embedded), or an encoder's Hugging Face directory (BERT, RoBERTa, ModernBERT, DeBERTa-v2)")
    String model

    @Option(names = '--adapter', paramLabel = 'DIR', description = 'a PEFT LoRA adapter directory to apply to the encoder')
    Path adapter

    @Option(names = '--queries', required = true, paramLabel = 'FILE', description = 'the queries, JSONL with id, text and relevant')
    Path queries

    @Option(names = '--corpus', required = true, paramLabel = 'FILE', description = 'the documents, JSONL with id and text')
    Path corpus

    @Option(names = '--json', paramLabel = 'FILE', description = 'also write the metrics as a JSON object to FILE')
    Path json

    @Option(names = '--pooling', paramLabel = 'MODE', defaultValue = 'mean', description = 'mean or cls (default: ${DEFAULT-VALUE})')
    String pooling

    @Option(names = '--max-length', paramLabel = 'N', defaultValue = '256', description = 'tokens per text, longer ones are cut (default: ${DEFAULT-VALUE})')
    int maxLength

    @Option(names = '--batch-size', paramLabel = 'N', defaultValue = '64', description = 'texts per forward pass (default: ${DEFAULT-VALUE})')
    int batchSize

    @Option(names = '--stacktrace', description = 'print the stack trace of an error')
    boolean stacktrace

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        PoolingMode mode = Encoders.pooling(pooling)
        if (batchSize < 1) {
            throw new UserError("--batch-size must be at least 1, got ${batchSize}")
        }
        Models.inputFile(queries, 'queries')
        Models.inputFile(corpus, 'corpus')
        RetrievalSet set = RetrievalSet.read(queries, corpus, 0)
        Path modelDir = Models.directory(model)
        SentenceEncoder encoder = Encoders.load(modelDir, adapter, mode, spec.commandLine().err)
        Map<String, Double> metrics = Encoders.tokenizer(modelDir, encoder, maxLength).withCloseable { Tokenizer tokenizer ->
            new RetrievalEvaluator(encoder, Backend.get().manager(), batchSize).retrieval(RetrievalEvaluator.Tokenized.of(set, tokenizer))
        }
        PrintWriter out = spec.commandLine().out
        out.println("${set.queries().size()} queries, ${set.corpus().size()} documents")
        out.println(String.format(Locale.ROOT, '%-10s %8s', 'metric', 'value'))
        metrics.findAll { it.key != 'queries' }.each { String k, Double v ->
            out.println(String.format(Locale.ROOT, '%-10s %8.4f', k, v))
        }
        if (json != null) {
            Map<String, Object> row = [model: model, adapter: adapter?.toString(), queries: set.queries().size(),
                                       documents: set.corpus().size()]
            metrics.findAll { it.key != 'queries' }.each { k, v -> row[k] = v }
            AtomicFiles.writeString(json, JsonOutput.prettyPrint(JsonOutput.toJson(row)) + '\n')
            out.println("metrics written to ${json}")
        }
        out.flush()
        0
    }
}
