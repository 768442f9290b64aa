// Trains a small Llama (4 layers, hidden 192, 1.8M parameters, one token per character) from scratch on
// SpamAssassin mail, then lets it write. No adapter block: every weight trains. The model folder holds only
// config.json and a character-level tokenizer.json (see data/mail/README.md); init 'random' draws the weights.
// 200 steps of 16 blocks of 128 characters (410k characters); measured figures are in docs/decoders.md. It saves a
// loadable model in <run>/model, which mail-llama-lora starts from.
recipe 'mail-llama-scratch'

model {
    path '../models/mail-llama'
    init 'random'
    task causalLm(prompts: ['Dear friend,', 'Hi all,\n', 'FREE'], maxNewTokens: 80, packing: true)
}

data {
    train texts('../data/mail/train.jsonl')      // {"text": ...}: every character is learned
    valid texts('../data/mail/valid.jsonl')
    maxLength 128                                // packed: the mail stream cut into blocks of 128 characters
}

optimizer adamW(lr: 3e-3, weightDecay: 0.1)
schedule cosine(warmup: 0.05)

train {
    epochs 1
    maxSteps 200
    batchSize 16
    clipNorm 1.0
    seed 42
}

output {
    dir '../../runs/mail-llama'                  // mail-llama-lora.groovy reads runs/mail-llama/model
}
