// LoRA on the small mail Llama that mail-llama-scratch.groovy trained: it learns to follow two instructions about a
// mail (spam or ham? a subject line?) in ChatML. Only the answers are learned (the prompt's labels are -100); the
// template is the model's own (its tokenizer_config.json's chat_template is ChatML). Generations before and after
// show what the adapter changed.
recipe 'mail-llama-lora'

model {
    path '../../runs/mail-llama/model'
    ifMissing 'train it first: ./peft4j run recipes/decoder/mail-llama-scratch.groovy (it writes runs/mail-llama/model),' +
            ' or point at another run: --set model.path=runs/<run>/model'
    task causalLm(maxNewTokens: 40, prompts: [
            'Is this message spam or ham?\n\nGet rich quick!!!\nMake $5000 a week from home. Click here to order now.',
            'Is this message spam or ham?\n\nRe: patch for the build\nThanks, I applied it to CVS and the tests pass now.',
            'Write a subject line for this mail.\n\nThe meeting is moved to Thursday at 10am, same room. Bring the slides.'])
}

lora {
    r 16
    alpha 32
    dropout 0.05
    target 'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'
}

data {
    train instructions('../data/mail/instructions-train.jsonl')   // {"instruction", "input", "output"}
    valid instructions('../data/mail/instructions-valid.jsonl')
    maxLength 320
}

optimizer adamW(lr: 1e-3, weightDecay: 0.0)
schedule linear(warmup: 0.05)

train {
    epochs 1
    batchSize 16
    clipNorm 1.0
    seed 42
}
