// The LoRA side of the AdaLoRA benchmark (recipes/experiments/topics-benchmark.sh): 8 mailing lists and feeds of
// the SpamAssassin ham mail (data/mail-topics), MiniLM with r = 8 on query and value. Its AdaLoRA twin,
// topics-adalora.groovy, differs only in the adapter block and ends with the same 96 rank triplets.
recipe 'topics-lora'

params {
    lr 5e-4
}

model {
    source 'minilm'
    task classification(labels: ['fork', 'ilug', 'irish-social', 'rpm', 'razor', 'spamassassin', 'exmh', 'feeds'])
}

lora {
    r 8
    alpha 16
    dropout 0.05
    target 'query', 'value'
    modulesToSave 'classifier'
}

data {
    train jsonl('../data/mail-topics/train.jsonl') { text 'text'; label 'label' }
    valid jsonl('../data/mail-topics/valid.jsonl')
    test  jsonl('../data/mail-topics/test.jsonl')
    maxLength 64
}

optimizer adamW(lr: params.lr, weightDecay: 0.01)
schedule linear(warmup: 0.06)

train {
    epochs 4
    batchSize 32
    clipNorm 1.0
    seed 42
}

output { dir '../runs/topics-lora' }
