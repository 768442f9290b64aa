package org.peft4j.bench

import org.peft4j.models.core.DecoderConfig
import org.peft4j.tensor.Backend
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class BenchmarkSpec extends Specification {

    @TempDir
    Path tmp

    // a Llama small enough that a round of every case takes well under a second
    static final DecoderConfig TINY = DecoderConfig.llama(16, 32, 1, 2, 1, 8, 1e-5, 10000, 32, 16, false)

    def "percentiles interpolate between the sorted repeats"() {
        given:
        def t = new Timing([4, 1, 3, 2, 5] as double[])

        expect:
        t.median() == 3
        Math.abs(t.p10() - 1.4) < 1e-12
        Math.abs(t.p90() - 4.6) < 1e-12
    }

    def "ratios of interleaved cases are the median of the per-round ratios, so a slow round cancels out"() {
        given: 'round 2 ran under a burst of outside load that slowed both cases alike'
        def a = new Timing([1.1, 1.1, 5.5, 1.1] as double[])
        def b = new Timing([1.0, 1.0, 5.0, 1.0] as double[])

        expect:
        Math.abs(BenchReport.pairedRatio(a, b) - 1.1) < 1e-12
    }

    def "a -bf16 suffix runs a case with bfloat16 products; other names are not cases"() {
        expect:
        Benchmark.isCase(name) == known
        !known || Benchmark.precisionOf(name) == precision

        where:
        name             | known | precision
        'lora'           | true  | org.peft4j.tensor.ComputePrecision.FLOAT32
        'lora-bf16'      | true  | org.peft4j.tensor.ComputePrecision.BFLOAT16
        'adalora-bf16'   | true  | org.peft4j.tensor.ComputePrecision.BFLOAT16
        'base-bf16'      | true  | org.peft4j.tensor.ComputePrecision.BFLOAT16
        'lora-bf16-bf16' | false | null
        'bf16'           | false | null
    }

    def "memory is flat when the resident set grows by less than 2 % after the warm-up"() {
        expect:
        new MemoryFlatness('lora', 2000, 1_000_000_000L, end, end).flat() == flat

        where:
        end            | flat
        1_019_000_000L | true
        1_021_000_000L | false
        990_000_000L   | true
    }

    def "every case runs interleaved on its own model and reports its own trainable parameters"() {
        given:
        def workload = new LlamaWorkload(TINY, 2, 8, Backend.get().manager())
        def bench = new Benchmark(workload, new Benchmark.Options(1, 2, 2), new PrintStream(OutputStream.nullOutputStream()))

        when:
        def cases = bench.timeAll(Benchmark.TRAINING, Benchmark.INFERENCE)
        def byName = cases.collectEntries { [it.name(), it] }

        then:
        cases*.name() == Benchmark.TRAINING + Benchmark.INFERENCE
        cases.every { it.timing().seconds().length == 2 && it.timing().median() > 0 && it.flops() > 0 }
        // LoRA r = 2 on q_proj (16 -> 16) and v_proj (16 -> 8): A and B of each
        byName.lora.trainableParams() == 2 * (16 + 16) + 2 * (16 + 8)
        byName.full.trainableParams() > 10 * byName.lora.trainableParams()
        byName.base.trainableParams() == 0

        cleanup:
        workload.close()
    }

    def "the PyTorch reference's JSON gives tokens/s per mode, and the report divides ours by them"() {
        given:
        Path json = tmp.resolve('ref.json')
        Files.writeString(json, '''{"torch": "1.13.0", "threads": 2, "batch": 4, "seq": 8, "warmup": 1, "repeats": 2,
            "results": {"lora": {"median_seconds": 0.5, "tokens_per_second": 64.0}, "full": {"tokens_per_second": 32.0}}}''')
        def lora = new Benchmark.Case('lora', 'train', new Timing([0.25] as double[]), 1e9, 32, 10)
        def full = new Benchmark.Case('full', 'train', new Timing([0.5] as double[]), 1e9, 32, 100)

        when:
        def ref = Reference.read(json)
        def report = new BenchReport('w', 4, 8, new Benchmark.Options(1, 1, 8), 100, [lora, full], [:], ref, 'engine')

        then:
        ref.tokensPerSecond() == [lora: 64.0d, full: 32.0d]
        report.ratios().lora_tokens_per_s_over_pytorch == 2.0d
        report.ratios().full_tokens_per_s_over_pytorch == 2.0d
        !report.table().contains('WARNING')
    }
}
