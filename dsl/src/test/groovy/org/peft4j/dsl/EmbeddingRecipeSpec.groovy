package org.peft4j.dsl

import org.peft4j.embedding.LossKind
import org.peft4j.embedding.PoolingMode
import org.peft4j.models.TaskType
import org.peft4j.run.RunConfig
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** model { task embedding(...) } recipes build a RunConfig of an embedding task; their mistakes point at the recipe line. */
class EmbeddingRecipeSpec extends Specification {

    static final String GOOD = '''\
recipe 'retrieval'
model {
    source 'minilm'
    task embedding(pooling: 'cls', loss: 'infonce', temperature: 0.07)
}
lora {
    r 4
    alpha 8
    target 'query', 'key', 'value'
}
data {
    train pairs('data/pairs.jsonl')
    queries jsonl('data/queries.jsonl')
    corpus jsonl('data/corpus.jsonl')
    sts scored('data/sts.jsonl')
    maxLength 48
}
optimizer adamW(lr: 3e-4, weightDecay: 0)
train {
    epochs 2
    batchSize 16
    seed 7
}
'''

    @TempDir
    Path dir

    def setup() {
        Files.createDirectories(dir.resolve('data'))
        Files.writeString(dir.resolve('data/pairs.jsonl'), '{"anchor": "a", "positive": "b"}\n')
        Files.writeString(dir.resolve('data/sentences.jsonl'), '{"text": "a"}\n')
        Files.writeString(dir.resolve('data/queries.jsonl'), '{"id": "q1", "text": "a", "relevant": ["d1"]}\n')
        Files.writeString(dir.resolve('data/corpus.jsonl'), '{"id": "d1", "text": "b"}\n')
        Files.writeString(dir.resolve('data/sts.jsonl'), '{"a": "a", "b": "b", "score": 0.5}\n')
    }

    private Path recipe(String text, String name = 'r.groovy') {
        Files.writeString(dir.resolve(name), text)
    }

    private static List<String> problems(Closure body) {
        try {
            body()
        } catch (RecipeException e) {
            return e.problems
        }
        throw new AssertionError('the recipe loaded without problems')
    }

    def "an embedding recipe builds the RunConfig it says, with paths read from the recipe's folder"() {
        when:
        Recipe r = RecipeLoader.loadRecipe(recipe(GOOD), [:], false)
        RunConfig c = r.config()

        then:
        c.task() == TaskType.EMBEDDING
        r.name() == 'retrieval'
        c.model().source() == 'minilm'
        c.embedding().pooling() == PoolingMode.CLS
        c.embedding().loss() == LossKind.INFONCE
        c.embedding().temperature() == 0.07d
        c.lora().r() == 4
        c.lora().targets() == ['query', 'key', 'value']
        c.data().train() == dir.resolve('data/pairs.jsonl')
        c.data().queries() == dir.resolve('data/queries.jsonl')
        c.data().corpus() == dir.resolve('data/corpus.jsonl')
        c.data().scored() == dir.resolve('data/sts.jsonl')
        c.data().maxLength() == 48
        c.optimizer().lr() == 3e-4d
        c.train().epochs() == 2
        c.train().batchSize() == 16
        c.train().seed() == 7L
    }

    def "embedding() without arguments is mean pooling, InfoNCE and SimCSE's temperature 0.05"() {
        when:
        RunConfig c = RecipeLoader.load(recipe(GOOD.replace("embedding(pooling: 'cls', loss: 'infonce', temperature: 0.07)", 'embedding()')))

        then:
        c.embedding().pooling() == PoolingMode.MEAN
        c.embedding().loss() == LossKind.INFONCE
        c.embedding().temperature() == 0.05d
    }

    def "a misspelt loss is reported at its line with the nearest word and the valid ones"() {
        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(GOOD.replace("loss: 'infonce'", "loss: 'infonse'")), [:], false) }

        then:
        p == ["${dir.resolve('r.groovy')}:4: embedding loss 'infonse' is not valid; did you mean 'infonce'?; valid: infonce, simcse, cosine".toString()]
    }

    def "a pooling word that is not one is reported with the valid ones"() {
        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(GOOD.replace("pooling: 'cls'", "pooling: 'max'")), [:], false) }

        then:
        p.size() == 1
        p[0].endsWith(":4: embedding pooling 'max' is not valid; valid: mean, cls")
    }

    def "a temperature outside (0, 1] is placed at the task line"() {
        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(GOOD.replace('temperature: 0.07', 'temperature: 0')), [:], false) }

        then:
        p == ["${dir.resolve('r.groovy')}:4: temperature = 0.0 must be in (0, 1]; SimCSE uses 0.05".toString()]
    }

    def "pairs given to the SimCSE loss, which trains on sentences, are refused at the train line"() {
        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(GOOD.replace("loss: 'infonce'", "loss: 'simcse'")), [:], false) }

        then:
        p == ["${dir.resolve('r.groovy')}:12: data.train is pairs('...') but loss 'simcse' trains on sentences('...'); use train sentences('...') or another loss".toString()]
    }

    def "sentences with the SimCSE loss load"() {
        when:
        RunConfig c = RecipeLoader.load(recipe(GOOD.replace("loss: 'infonce'", "loss: 'simcse'")
                .replace("train pairs('data/pairs.jsonl')", "train sentences('data/sentences.jsonl')")))

        then:
        c.embedding().loss() == LossKind.SIMCSE
        c.data().train() == dir.resolve('data/sentences.jsonl')
    }

    def "classification's valid split in an embedding recipe, queries without a corpus, and adalora are all reported together"() {
        given:
        String text = GOOD.replace("    corpus jsonl('data/corpus.jsonl')\n", "    valid jsonl('data/corpus.jsonl')\n") +
                "adalora {\n    initR 8\n    targetR 4\n}\n"

        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(text), [:], false) }

        then:
        p.any { it.contains(':14: data.valid is for classification') }
        p.any { it.contains('data.queries and data.corpus go together') }
        p.any { it.contains(':24: adalora { } is not available for embedding tasks') }
    }

    def "retrieval files in a classification recipe are refused at their line"() {
        given:
        String text = GOOD.replace("task embedding(pooling: 'cls', loss: 'infonce', temperature: 0.07)", "task classification(labels: ['a', 'b'])")
                .replace("train pairs('data/pairs.jsonl')", "train jsonl('data/pairs.jsonl')")
                .replace("    sts scored('data/sts.jsonl')\n", '')

        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(text), [:], false) }

        then:
        p.any { it.contains(':13: data.queries is for an embedding task') }
        p.any { it.contains(':14: data.corpus is for an embedding task') }
    }

    def "overrides reach embedding recipes: another query file, and a batch too small for in-batch negatives"() {
        given:
        Path other = Files.writeString(dir.resolve('other-queries.jsonl'), '{"id": "q2", "text": "b", "relevant": ["d1"]}\n')

        when:
        RunConfig c = RecipeLoader.load(recipe(GOOD), ['data.queries': other.toString(), 'train.epochs': '1'])

        then:
        c.data().queries() == other
        c.train().epochs() == 1

        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(GOOD), ['train.batchSize': '1'], false) }

        then:
        p == ["${dir.resolve('r.groovy')}: --set train.batchSize=1: train.batchSize = 1 must be >= 2 for INFONCE: the other rows of the batch are the negatives".toString()]
    }

    def "a typo in an embedding option is a compile error with the block's valid options"() {
        when:
        List<String> p = problems { RecipeLoader.loadRecipe(recipe(GOOD.replace('    corpus jsonl', '    corpsu jsonl')), [:], false) }

        then:
        p.size() == 1
        p[0].startsWith("${dir.resolve('r.groovy')}:14: unknown option 'corpsu' in data { }; did you mean 'corpus'?")
    }

    def "RecipeLoader.load returns an embedding recipe's RunConfig as it does every other task's"() {
        when:
        RunConfig c = RecipeLoader.load(recipe(GOOD))

        then:
        c.task() == TaskType.EMBEDDING
        c.embedding().loss() == LossKind.INFONCE
    }
}
