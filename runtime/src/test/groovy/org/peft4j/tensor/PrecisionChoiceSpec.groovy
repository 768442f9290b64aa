package org.peft4j.tensor

import spock.lang.Specification

/** What a dtype name makes of the products, on CPUs with and without bfloat16 instructions. */
class PrecisionChoiceSpec extends Specification {

    static final Set<String> ZEN4 = ['avx2', 'avx512f', 'avx512_bf16'] as Set
    static final Set<String> SAPPHIRE_RAPIDS = ['avx2', 'avx512f', 'amx_tile', 'amx_bf16'] as Set
    static final Set<String> NO_BF16 = ['avx2', 'avx512f'] as Set

    def "float32 names, and names of weight dtypes, keep float32 products with nothing to say"() {
        expect:
        PrecisionChoice.of(name, false, ZEN4, null) == new PrecisionChoice(ComputePrecision.FLOAT32, null)

        where:
        name << [null, 'float32', 'fp32', 'float16']
    }

    def "auto picks bfloat16 only where the CPU multiplies it natively"() {
        when:
        def choice = PrecisionChoice.of('auto', false, flags, null)

        then:
        choice.precision() == expected
        (choice.note() != null) == (expected == ComputePrecision.FLOAT32)

        where:
        flags           | expected
        ZEN4            | ComputePrecision.BFLOAT16
        SAPPHIRE_RAPIDS | ComputePrecision.BFLOAT16
        NO_BF16         | ComputePrecision.FLOAT32
        [] as Set       | ComputePrecision.FLOAT32
    }

    def "where the bridge cannot load, bfloat16 and auto fall back to float32 and say why"() {
        when:
        def choice = PrecisionChoice.of(name, false, ZEN4, 'the engine runs libtorch 2.5.1, the binding needs 2.7.1')

        then:
        choice.precision() == ComputePrecision.FLOAT32
        choice.note().contains("dtype '${name}' runs float32 products")
        choice.note().contains('the engine runs libtorch 2.5.1, the binding needs 2.7.1')

        where:
        name << ['bfloat16', 'bf16', 'auto']
    }

    def "an explicit bfloat16 on a CPU without bfloat16 instructions runs, with a note that it is emulated"() {
        when:
        def choice = PrecisionChoice.of('bfloat16', false, NO_BF16, null)

        then:
        choice.precision() == ComputePrecision.BFLOAT16
        choice.note().contains('emulated')
    }

    def "on a GPU, auto means float32 and an explicit bfloat16 is refused with the fix"() {
        expect:
        PrecisionChoice.of('auto', true, ZEN4, null).precision() == ComputePrecision.FLOAT32

        when:
        PrecisionChoice.of('bf16', true, ZEN4, null)

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("dtype 'bf16'") && e.message.contains("'float16'")
    }

    def "the CPU check reads the bfloat16 flags"() {
        expect:
        ComputePrecision.nativeBfloat16(ZEN4)
        ComputePrecision.nativeBfloat16(SAPPHIRE_RAPIDS)
        !ComputePrecision.nativeBfloat16(NO_BF16)
    }
}
