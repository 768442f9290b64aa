package org.peft4j.cli

import groovy.json.JsonOutput
import org.peft4j.data.PairDataset
import org.peft4j.data.PairJsonl
import org.peft4j.data.RetrievalSet
import org.peft4j.data.Tokenizer
import org.peft4j.dsl.Recipe
import org.peft4j.embedding.RetrievalEvaluator
import org.peft4j.embedding.SentenceEncoder
import org.peft4j.io.AtomicFiles
import org.peft4j.models.TaskType
import org.peft4j.run.RunConfig
import org.peft4j.tensor.Backend
import picocli.CommandLine.Command
import picocli.CommandLine.Mixin
import picocli.CommandLine.Model.CommandSpec
import picocli.CommandLine.Option
import picocli.CommandLine.Spec

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.Callable

/** The evaluation of an embedding recipe, on the base model or with an adapter, without training. */
@Command(name = 'eval', mixinStandardHelpOptions = true, versionProvider = Main.Version,
        description = ['Evaluate an embedding recipe\'s model on the recipe\'s evaluation data, as a run does before and after',
                'training: retrieval over data.queries and data.corpus (MRR@10, recall@1/5/10, nDCG@10) and Spearman\'s rho',
                'over data.sts. Without --adapter the base model is evaluated; given a run directory, its recipe copy and',
                'its adapter. The model, pooling, maxLength and evalBatchSize are the recipe\'s.',
                'For any query and corpus files without a recipe: eval-retrieval.'],
        footer = ['', 'Examples:', '  peft4j eval recipes/embedding/spam-retrieval-lora.groovy            # the base model',
                '  peft4j eval recipes/embedding/spam-retrieval-lora.groovy --adapter runs/lora/adapter',
                '  peft4j eval runs/spam-retrieval-lora-20260101-120000 --json after.json   # a run: its recipe and adapter',
                '', 'Exit codes: 0 evaluated, 1 evaluation failed, 2 a usage or recipe mistake.'])
class EvalCommand implements Callable<Integer> {

    @Mixin
    CommonOptions common

    @Option(names = '--adapter', paramLabel = 'DIR',
            description = 'a PEFT LoRA or AdaLoRA adapter directory to apply (default: none; for a run directory, its adapter)')
    Path adapter

    @Option(names = '--json', paramLabel = 'FILE', description = 'also write the metrics as a JSON object to FILE')
    Path json

    @Spec
    CommandSpec spec

    @Override
    Integer call() {
        RunRecord run = common.rerunOf()
        Recipe recipe = common.load()
        RunConfig c = recipe.config()
        if (c.task() != TaskType.EMBEDDING) {
            throw new UserError("${common.recipe}: eval evaluates embedding recipes (model { task embedding(...) });" +
                    " a classification run reports valid and test metrics itself, and predict writes a model's logits")
        }
        if (c.data().queries() == null && c.data().scored() == null) {
            throw new UserError("${common.recipe}: the recipe has no evaluation data; give data { queries ...; corpus ... } or sts scored('...')")
        }
        Path adapterDir = adapter
        if (adapterDir == null && run != null && Files.isDirectory(run.runDir.resolve('adapter'))) {
            adapterDir = run.runDir.resolve('adapter')
        }
        Backend.start(c.backend())
        String model = c.model().source() ?: c.model().path().toString()
        Path modelDir = Models.directory(model)
        SentenceEncoder encoder = Encoders.load(modelDir, adapterDir, c.embedding().pooling(), spec.commandLine().err)
        Map<String, Map<String, Double>> metrics = [:]
        int queries = 0
        int documents = 0
        Encoders.tokenizer(modelDir, encoder, c.data().maxLength()).withCloseable { Tokenizer tokenizer ->
            RetrievalEvaluator evaluator = new RetrievalEvaluator(encoder, Backend.get().manager(), c.train().evalBatchSize())
            if (c.data().queries() != null) {
                RetrievalSet set = RetrievalSet.read(c.data().queries(), c.data().corpus(), 0)
                queries = set.queries().size()
                documents = set.corpus().size()
                metrics.retrieval = evaluator.retrieval(RetrievalEvaluator.Tokenized.of(set, tokenizer))
            }
            if (c.data().scored() != null) {
                metrics.sts = evaluator.spearman(PairDataset.scored(PairJsonl.scored(c.data().scored(), 0), tokenizer))
            }
        }
        PrintWriter out = spec.commandLine().out
        out.println("${c.name()}: ${model}${adapterDir == null ? ' (base model)' : " with adapter ${adapterDir}"}, " +
                "${c.embedding().pooling().name().toLowerCase()} pooling, maxLength ${c.data().maxLength()}")
        if (metrics.retrieval != null) {
            out.println("retrieval: ${queries} queries over ${documents} documents")
        }
        out.println(String.format(Locale.ROOT, '%-20s %8s', 'metric', 'value'))
        metrics.each { String eval, Map<String, Double> m ->
            List<String> names = RunCommand.headline(eval, m).findAll { m.containsKey(it) }
            names.each { String k -> out.println(String.format(Locale.ROOT, '%-20s %8.4f', "${eval} ${k}", m[k])) }
        }
        if (json != null) {
            Map<String, Object> doc = [recipe: c.name(), model: model, adapter: adapterDir?.toString()]
            doc.putAll(metrics)
            AtomicFiles.writeString(json, JsonOutput.prettyPrint(JsonOutput.toJson(doc)) + '\n')
            out.println("metrics written to ${json}")
        }
        out.flush()
        0
    }
}
