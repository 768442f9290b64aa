package org.peft4j.models.llama

import ai.djl.engine.Engine
import ai.djl.ndarray.NDManager
import org.peft4j.data.CausalLmDataset
import org.peft4j.data.CausalLmTokenizer
import org.peft4j.data.ChatMessage
import org.peft4j.data.ChatTemplate
import org.peft4j.data.PaddingSide
import org.peft4j.models.CausalLmLoss
import org.peft4j.peft.lora.LoraConfig
import org.peft4j.peft.lora.LoraInjector
import org.peft4j.tensor.Backend
import org.peft4j.tensor.StepScope
import org.peft4j.testing.CharTokenizer
import org.peft4j.train.AdamW
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

class LlamaFineTuneSpec extends Specification {

    @TempDir
    @Shared
    Path tmp

    @Shared
    @AutoCleanup
    CausalLmTokenizer tokenizer

    NDManager m = Backend.get().manager()

    def setupSpec() {
        tokenizer = CausalLmTokenizer.load(CharTokenizer.write(tmp.resolve('tok')))
    }

    static final List<List<ChatMessage>> CHATS = [
            [new ChatMessage('user', 'hi'), new ChatMessage('assistant', 'hello there.')],
            [new ChatMessage('system', 'be brief'), new ChatMessage('user', 'sky?'), new ChatMessage('assistant', 'blue.')],
            [new ChatMessage('user', 'grass?'), new ChatMessage('assistant', 'green.')],
            [new ChatMessage('user', 'snow?'), new ChatMessage('assistant', 'white.')]]

    def "the character tokenizer reads ChatML specials as single tokens"() {
        expect:
        tokenizer.encode('<|im_start|>ab\n') as List == [2, 5, 6, 32]  // 5 specials, a = 5, ..., ' ' = 31, '\n' = 32
        tokenizer.tokenId('<|im_end|>') == 3
        tokenizer.decode(tokenizer.encode('<|im_start|>user\nhi?<|im_end|>')) == '<|im_start|>user\nhi?<|im_end|>'
    }

    def "ChatML renders as the model's Jinja template, and only the assistant's answer and end token are learned"() {
        when:
        def segments = ChatTemplate.CHATML.render(CHATS[0], false)

        then:
        ChatTemplate.CHATML.renderText(CHATS[0], true) ==
                '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello there.<|im_end|>\n<|im_start|>assistant\n'
        segments*.learned == [false, true, false]
        segments[1].text() == 'hello there.<|im_end|>'
    }

    def "Llama 3 renders with begin_of_text, headers and eot_id, content trimmed"() {
        expect:
        ChatTemplate.LLAMA3.renderText([new ChatMessage('user', ' hi '), new ChatMessage('assistant', 'yo')], false) ==
                '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>' +
                '<|start_header_id|>assistant<|end_header_id|>\n\nyo<|eot_id|>'
        ChatTemplate.LLAMA3.render([new ChatMessage('user', 'hi'), new ChatMessage('assistant', 'yo')], false)*.learned ==
                [false, true]
    }

    def "prompt tokens carry label -100 and the response tokens carry their ids"() {
        when:
        def ds = CausalLmDataset.fromChats([CHATS[0]], tokenizer, ChatTemplate.CHATML, 64, 0)
        int[] ids = ds.ids(0)
        int[] labels = ds.labels(0)
        int prompt = tokenizer.encode('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n').length
        int answer = tokenizer.encode('hello there.<|im_end|>').length

        then:
        ids.length == prompt + answer + 1
        labels[0..<prompt].every { it == -100 }
        labels[prompt..<prompt + answer] as List == ids[prompt..<prompt + answer] as List
        labels[-1] == -100
    }

    def "instruction rows become a user turn (instruction, blank line, input) and an assistant turn"() {
        given:
        def file = tmp.resolve('alpaca.jsonl')
        Files.writeString(file, '{"instruction": "add", "input": "1 2", "output": "3"}\n\n{"instruction": "hi", "output": "yo"}\n')

        when:
        def chats = CausalLmDataset.readInstructions(file)

        then:
        chats[0] == [new ChatMessage('user', 'add\n\n1 2'), new ChatMessage('assistant', '3')]
        chats[1] == [new ChatMessage('user', 'hi'), new ChatMessage('assistant', 'yo')]
    }

    def "chat JSONL is read message by message; a bad line is named with its file and line"() {
        given:
        def good = tmp.resolve('chat.jsonl')
        Files.writeString(good, '{"messages": [{"role": "user", "content": "sky?"}, {"role": "assistant", "content": "blue."}]}\n')
        def bad = tmp.resolve('bad.jsonl')
        Files.writeString(bad, '{"messages": [{"role": "user", "content": "sky?"}, {"role": "assistant", "content": "blue."}]}\n{"messages": [{"role": "user", "content": "x"}]}\n')

        when:
        def chats = CausalLmDataset.readChats(good)
        CausalLmDataset.readChats(bad)

        then:
        chats == [[new ChatMessage('user', 'sky?'), new ChatMessage('assistant', 'blue.')]]
        def e = thrown(org.peft4j.data.DataFileException)
        e.line() == 2
        e.message.contains('no assistant message')
    }

    def "plain texts learn every token and end with the end-of-text token"() {
        when:
        def ds = CausalLmDataset.fromTexts(['snow is white.'], tokenizer, 64, tokenizer.tokenId('<|endoftext|>'), 0)

        then:
        ds.ids(0) as List == (tokenizer.encode('snow is white.') as List) + [4]
        ds.labels(0) == ds.ids(0)
    }

    def "uniform logits give loss ln V and perplexity V"() {
        expect:
        try (def s = new StepScope()) {
            def logits = m.zeros(new ai.djl.ndarray.types.Shape(2, 5, 40))
            def labels = m.create([[-100, 3, 4, -100, -100], [1, 2, -100, 7, -100]] as long[][])
            double loss = CausalLmLoss.loss(logits, labels).getFloat()
            Math.abs(loss - Math.log(40)) < 1e-5 && Math.abs(CausalLmLoss.perplexity(loss) - 40) < 1e-3
        }
    }

    def "truncation is counted, and an example whose response is cut away entirely is dropped"() {
        when:
        def ds = CausalLmDataset.fromChats(CHATS, tokenizer, ChatTemplate.CHATML, 30, 0)

        then: "chat 1 has 36 prompt tokens, so nothing of it is left to learn; the others are cut"
        ds.dropped() == 1
        ds.truncated() == 4
        ds.size() == 3
        ds.report().contains('4 truncated to maxLength, 1 dropped')
    }

    def "the loss ignores prompt positions: changing a prompt-only label region changes nothing"() {
        given:
        def lm = TinyLlama.load(tmp.resolve('m1'), 21)
        def ds = CausalLmDataset.fromChats(CHATS, tokenizer, ChatTemplate.CHATML, 64, 0)

        expect:
        try (def s = new StepScope()) {
            def b = ds.batch([0, 1] as int[], m, PaddingSide.RIGHT)
            def logits = lm.forward(b.inputIds(), b.attentionMask())
            double loss = CausalLmLoss.loss(logits, b.labels()).getFloat()
            // the same loss by hand: mean over learned labels of −log softmax(logits[t−1])[label[t]]
            float[] lp = logits.logSoftmax(-1).toFloatArray()
            long[] lab = b.labels().toLongArray()
            int T = b.inputIds().shape.get(1), V = TinyLlama.VOCAB
            double sum = 0
            int n = 0
            for (int r = 0; r < 2; r++) for (int t = 1; t < T; t++) {
                long y = lab[r * T + t]
                if (y != -100) { sum -= lp[(r * T + t - 1) * V + (int) y]; n++ }
            }
            n == b.learnedTokens() && Math.abs(loss - sum / n) < 1e-5
        }
    }

    def "a short LoRA run on q_proj and v_proj lowers the loss on response tokens and leaves the base untouched"() {
        given:
        def lm = TinyLlama.load(tmp.resolve('m2'), 22)
        def ds = CausalLmDataset.fromChats(CHATS, tokenizer, ChatTemplate.CHATML, 64, 0)
        float[] baseQ = lm.namedParameters()['model.layers.0.self_attn.q_proj.weight'].value().toFloatArray()
        def lora = LoraInjector.inject(lm, LoraConfig.of(4, 8, 0, ['q_proj', 'v_proj'], []), m)
        def params = lora.adapterParameters().values() as List
        def opt = new AdamW(params, 0.9, 0.999, 1e-8, 0)
        int[] all = 0..<ds.size()
        def lossNow = {
            try (def s = new StepScope()) {
                def b = ds.batch(all, m, PaddingSide.RIGHT)
                CausalLmLoss.loss(lm.forward(b.inputIds(), b.attentionMask()), b.labels()).getFloat()
            }
        }

        when:
        double before = lossNow()
        40.times {
            try (def s = new StepScope()) {
                def b = ds.batch(all, m, PaddingSide.RIGHT)
                try (def gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(CausalLmLoss.loss(lm.forward(b.inputIds(), b.attentionMask()), b.labels()))
                }
                opt.step(1e-2)
                opt.zeroGrad()
            }
        }
        double after = lossNow()

        then:
        lora.adaptedPaths().size() == 2 * TinyLlama.LAYERS
        params.size() == 4 * TinyLlama.LAYERS
        after < 0.7 * before
        lm.namedParameters()['model.layers.0.self_attn.q_proj.base_layer.weight'].value().toFloatArray() == baseQ

        cleanup:
        opt?.close()
    }
}
