// AdaLoRA on the quickstart's task: the same MiniLM, data and training, but each adapted matrix starts with
// 12 rank triplets and a global budget prunes them to 8 per matrix on average (8 × 12 matrices = 96 triplets),
// the quickstart LoRA's r = 8 on the same 12 query/value matrices: the same final size, placed where it matters.
recipe 'spam-adalora'

model {
    source 'minilm'
    task classification(labels: ['ham', 'spam'])
}

adalora {
    initR 12
    targetR 8
    // the schedule is left to the run: over its steps T, 10 % warm-up, 20 allocations, the last 20 % with a fixed mask
    // (tinit, tfinal, deltaT); orthReg 0 and lambdaLrRatio 64 are the defaults (docs/adapters.md, AdaLoRA)
    beta1 0.85
    beta2 0.85
    totalSteps 0          // 0: the run's own optimizer steps
    alpha 16
    dropout 0.05
    target 'query', 'value'
    modulesToSave 'classifier'
}

data {
    train jsonl('data/spam/train.jsonl') { text 'text'; label 'label' }
    valid jsonl('data/spam/valid.jsonl')
    test  jsonl('data/spam/test.jsonl')
    maxLength 128
}

optimizer adamW(lr: 2e-3, weightDecay: 0.01)   // as the quickstart, for a like-for-like comparison
schedule linear(warmup: 0.06)

train {
    epochs 1
    batchSize 16
    clipNorm 1.0
    seed 42
}
