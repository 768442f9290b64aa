// Quickstart: LoRA on the embedded all-MiniLM-L6-v2 (a real pretrained 22M-parameter BERT)
// to tell spam from ham in SpamAssassin mail. Runs on 2 CPU cores in a few minutes.
recipe 'quickstart'

model {
    source 'minilm'
    // Transformers' BertForSequenceClassification head: [CLS] -> pooler (dense, tanh) -> classifier, so the merged
    // model loads in AutoModelForSequenceClassification. MiniLM ships no pooler: a new one trains with the classifier.
    task classification(labels: ['ham', 'spam'], head: 'transformers')
}

lora {
    r 8
    alpha 16
    dropout 0.05
    target 'query', 'value'
    modulesToSave 'classifier', 'pooler'
}

data {
    train jsonl('data/spam/train.jsonl') { text 'text'; label 'label' }
    valid jsonl('data/spam/valid.jsonl')
    test  jsonl('data/spam/test.jsonl')
    maxLength 128
}

optimizer adamW(lr: 2e-3, weightDecay: 0.01)
schedule linear(warmup: 0.06)

train {
    epochs 1
    batchSize 16
    clipNorm 1.0
    seed 42
}
