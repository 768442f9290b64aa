// Unsupervised SimCSE (Gao et al. 2021): each sentence is encoded twice under different dropout masks and
// must pick its own other view out of the batch. No labels and no pairs: only subjects and bodies of
// training messages. Evaluated on the same held-out subject -> body retrieval as spam-retrieval-lora.groovy.
// Not tuned: the learning rate is the one spam-retrieval-lora.groovy chose on the dev split, one epoch.
recipe 'spam-retrieval-simcse'

model {
    source 'minilm'
    task embedding(pooling: 'mean', loss: 'simcse', temperature: 0.05)
}

lora {
    r 8
    alpha 16
    dropout 0.1
    target 'query', 'key', 'value'
}

data {
    train sentences('../data/spam-retrieval/sentences.jsonl')      // {"text": ...}, subjects and bodies
    queries jsonl('../data/spam-retrieval/eval-queries.jsonl')
    corpus jsonl('../data/spam-retrieval/eval-corpus.jsonl')
    maxLength 64
}

optimizer adamW(lr: 3e-4, weightDecay: 0)
schedule linear(warmup: 0.1)

train {
    epochs 1
    batchSize 32
    clipNorm 1.0
    seed 42
    evalBatchSize 64
}
