// The real use: LoRA on your own copy of an instruction-tuned decoder with a chat dataset. Get the model first
// (about 1 GB; see docs/decoders.md):
//   huggingface-cli download Qwen/Qwen2.5-0.5B-Instruct --local-dir models/Qwen2.5-0.5B-Instruct
// then run from the repository root: ./peft4j run recipes/decoder/qwen-chat-lora.groovy
// Another folder: --set model.path=/path/to/Llama-3.2-1B-Instruct (Llama 3's template is recognised the same way).
recipe 'qwen-chat-lora'

model {
    path '../../models/Qwen2.5-0.5B-Instruct'
    ifMissing 'download it: huggingface-cli download Qwen/Qwen2.5-0.5B-Instruct --local-dir models/Qwen2.5-0.5B-Instruct' +
            ' (from the repository root), or --set model.path=<your Qwen2 / Llama / Mistral directory>'
    // no template: the model's own chat_template (ChatML for Qwen2.5, llama3 for Llama 3.x) is recognised
    task causalLm(maxNewTokens: 48, prompts: ['Is this message spam or ham?\n\nWINNER!! Claim your free cruise now, reply YES.',
                                              'Write a subject line for this mail.\n\nThe build is broken since last night; I reverted the patch.'])
}

lora {
    r 8
    alpha 16
    dropout 0.05
    target 'q_proj', 'v_proj'
}

data {
    train chats('../data/mail/chats-train.jsonl')   // {"messages": [{"role", "content"}, ...]}: assistant turns are learned
    valid chats('../data/mail/chats-valid.jsonl')
    maxLength 256
}

optimizer adamW(lr: 2e-4, weightDecay: 0.0)
schedule cosine(warmup: 0.05)

train {
    epochs 1
    batchSize 4
    gradAccum 4
    clipNorm 1.0
    seed 42
}
