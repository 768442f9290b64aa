// The AdaLoRA side of the AdaLoRA benchmark (recipes/experiments/topics-benchmark.sh): the task, data and training
// of topics-lora.groovy, with 12 triplets per matrix pruned to 8 on average (96 in all, LoRA r = 8's rank on the
// same 12 matrices). The schedule (tinit, tfinal, deltaT) and λ's learning rate are the defaults.
recipe 'topics-adalora'

params {
    lr 5e-4
}

model {
    source 'minilm'
    task classification(labels: ['fork', 'ilug', 'irish-social', 'rpm', 'razor', 'spamassassin', 'exmh', 'feeds'])
}

adalora {
    initR 12
    targetR 8
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

output { dir '../runs/topics-adalora' }
