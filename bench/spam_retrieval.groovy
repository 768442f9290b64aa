// Measures sentence-embedding LoRA on the spam-retrieval task (recipes/data/spam-retrieval):
// MiniLM + LoRA (r 8 on query/key/value), τ 0.05, 1 epoch over TRAIN_LIMIT examples, batch 32, maxLength 64.
// Run from the repository root, after `mvn -pl runtime test-compile`:
//   java -cp runtime/target/classes:<runtime test classpath> groovy.ui.GroovyMain \
//        bench/spam_retrieval.groovy INFONCE|SIMCSE OUT_DIR [TRAIN_LIMIT=512] [THREADS=0: libtorch default] [LR=5e-4]
// On a busy machine pass THREADS 1 and set OMP_WAIT_POLICY=PASSIVE: spinning OpenMP threads slowed steps 10x here.
import org.peft4j.data.DataConfig
import org.peft4j.embedding.*
import org.peft4j.models.ModelSpec
import org.peft4j.models.TaskType
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.run.EmbeddingOptions
import org.peft4j.run.FineTune
import org.peft4j.run.RunConfig
import org.peft4j.run.RunOptions
import org.peft4j.tensor.BackendConfig
import org.peft4j.train.*

import java.nio.file.Path

def loss = LossKind.valueOf(args[0])
def out = Path.of(args[1])
int limit = args.length > 2 ? args[2] as int : 512
int threads = args.length > 3 ? args[3] as int : 0
double lr = args.length > 4 ? args[4] as double : 5e-4
def data = Path.of('recipes/data/spam-retrieval')
def train = loss == LossKind.SIMCSE ? data.resolve('sentences.jsonl') : data.resolve('train-pairs.jsonl')
def config = RunConfig.embedding("spam-retrieval-${loss.name().toLowerCase()}", new BackendConfig('cpu', 'float32', threads),
        new ModelSpec('minilm', null, TaskType.EMBEDDING, []), new EmbeddingOptions(PoolingMode.MEAN, loss, 0.05),
        LoraConfig.of(8, 16, 0.05, ['query', 'key', 'value'], []),
        DataConfig.embedding(train, data.resolve('eval-queries.jsonl'), data.resolve('eval-corpus.jsonl'), null, 64, limit),
        OptimizerConfig.adamW(lr, 0.0), ScheduleConfig.linear(0.1),
        new TrainConfig(1, 32, 1, 1.0, 42, 0, 0, 64))
def listener = new TrainingListener() {
    void onPhase(String m) { println "[${java.time.LocalTime.now().withNano(0)}] $m" }
    void onStep(StepInfo s) { if (s.step() % 8 == 0 || s.step() == 1) printf('step %d/%d loss %.4f lr %.2e %.1fs%n', s.step(), s.totalSteps(), s.loss(), s.lr(), s.seconds()) }
    void onEval(String split, String when, Map<String, Double> m) { println "eval $split $when: $m" }
}
def s = FineTune.run(config, new RunOptions(out, null, true), listener)
printf('%s: before mrr@10 %.4f recall@1 %.4f | after mrr@10 %.4f recall@1 %.4f | loss %.4f -> %.4f | %d steps, train %.1fs, wall %.1fs, peak RSS %d MB%n',
        loss, s.before().retrieval['mrr@10'], s.before().retrieval['recall@1'], s.after().retrieval['mrr@10'],
        s.after().retrieval['recall@1'], s.firstLoss(), s.lastLoss(), s.steps(), s.trainSeconds(), s.wallSeconds(),
        s.peakRssBytes() >> 20)
