// A variant of the quickstart: the same model, data and training, with a smaller adapter on all four
// attention projections. It starts from the quickstart and changes only what differs.
from '../quickstart.groovy'
recipe 'quickstart-rank4'

params {
    rank 4
    lr 2e-3
}

lora {
    r params.rank
    alpha params.rank * 2
    target 'query', 'key', 'value', 'attention.output.dense'
}

optimizer adamW(lr: params.lr, weightDecay: 0.01)

output { dir '../runs/quickstart-rank4' }
