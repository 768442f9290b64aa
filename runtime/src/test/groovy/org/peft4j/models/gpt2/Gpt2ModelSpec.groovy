package org.peft4j.models.gpt2

import ai.djl.ndarray.NDArray
import ai.djl.ndarray.NDManager
import ai.djl.ndarray.types.DataType
import org.peft4j.generate.GenerationConfig
import org.peft4j.generate.Generator
import org.peft4j.nn.Conv1D
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class Gpt2ModelSpec extends Specification {

    @TempDir
    Path tmp

    @Shared
    TinyGpt2 tiny = new TinyGpt2(41)

    NDManager m = Backend.get().manager()

    static float[] flat(NDArray a) { a.toType(DataType.FLOAT32, false).toFloatArray() }

    static double maxDiff(float[] a, float[] b) {
        assert a.length == b.length
        double d = 0
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]))
        d
    }

    def "a tiny GPT-2 checkpoint (Conv1D weights [in, out], #names) gives the logits of a forward pass by hand"() {
        given:
        def lm = GPT2LMHeadModel.fromPretrained(tiny.writeTo(tmp, rename))
        List<Integer> ids = [3, 17, 0, 9, 22, 5]

        when:
        float[] got = null
        try (def s = new StepScope()) {
            got = flat(lm.forward(m.create([ids as long[]] as long[][]), null))
        }

        then:
        lm.module('transformer.h.0.attn.c_attn') instanceof Conv1D
        lm.namedParameters()['transformer.h.0.attn.c_attn.weight'].value().shape.shape == [TinyGpt2.H, 3 * TinyGpt2.H] as long[]
        !lm.namedParameters().containsKey('lm_head.weight')
        maxDiff(got, tiny.logits(ids).collectMany { it as List } as float[]) < 1e-4

        where:
        names                  | rename
        'hub names'            | { String n -> n }
        'transformer. prefix'  | { String n -> "transformer.$n".toString() }
    }

    def "decoding with the KV cache gives the logits of a full forward"() {
        given:
        def lm = GPT2LMHeadModel.fromPretrained(tiny.writeTo(tmp))
        long[] ids = [1, 5, 9, 2, 14, 7, 7, 3]

        when:
        float[] full = null
        List<Float> stepped = []
        try (def s = new StepScope(); def cache = lm.newCache()) {
            full = flat(lm.forward(m.create([ids] as long[][]), null))
            stepped.addAll(flat(lm.forward(m.create([ids[0..<3] as long[]] as long[][]), null, null, cache)) as List)
            for (int t = 3; t < ids.length; t++) {
                stepped.addAll(flat(lm.forward(m.create([[ids[t]] as long[]] as long[][]), null, null, cache)) as List)
            }
        }

        then:
        maxDiff(full, stepped as float[]) < 1e-5
    }

    def "left padding does not change the logits of the real tokens"() {
        given:
        def lm = GPT2LMHeadModel.fromPretrained(tiny.writeTo(tmp))
        int V = TinyGpt2.VOCAB

        when:
        float[] left = null
        float[] alone = null
        try (def s = new StepScope()) {
            left = flat(lm.forward(m.create([[0, 0, 4, 8, 15], [1, 2, 3, 4, 5]] as long[][]), m.create([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]] as long[][])))
            alone = flat(lm.forward(m.create([[4, 8, 15]] as long[][]), null))
        }

        then:
        maxDiff(left[2 * V..<5 * V] as float[], alone) < 1e-5
    }

    def "greedy generation runs on GPT-2 with and without the cache and agrees"() {
        given:
        def lm = GPT2LMHeadModel.fromPretrained(tiny.writeTo(tmp))
        def gen = new Generator(lm, m)
        int[] prompt = [3, 1, 4]

        expect:
        gen.generate(prompt, GenerationConfig.greedy(10)).ids() == gen.generate(prompt, GenerationConfig.greedy(10).withCache(false)).ids()
    }

    def "a config with another activation or model type is refused with the field named"() {
        given:
        tiny.writeTo(tmp)
        def file = tmp.resolve('config.json')
        java.nio.file.Files.writeString(file, java.nio.file.Files.readString(file).replace('"gelu_new"', '"relu"').replace('"gpt2"', '"gptj"'))

        when:
        GPT2Config.read(file)

        then:
        def e = thrown(org.peft4j.config.ConfigException)
        e.message.contains("activation_function = 'relu'")
        e.message.contains("model_type = 'gptj'")
    }
}
