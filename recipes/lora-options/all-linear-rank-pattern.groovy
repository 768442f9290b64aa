// Every linear layer of MiniLM gets an adapter (allLinear: attention and feed-forward, not the classifier
// head), with rank 4 in general and rank 16 on query and value, where the quickstart puts all its rank.
// Ranks per module come from rankPattern (a name or a regex matched at the end of a module path).
from '../quickstart.groovy'
recipe 'quickstart-all-linear'

lora {
    allLinear()
    r 4
    alpha 8
    rankPattern 'query': 16, 'value': 16
    alphaPattern 'query': 32, 'value': 32
}
