// DoRA (Liu et al. 2024): each adapted weight is split into a trained magnitude per output row and a direction
// that LoRA updates; the rest is the quickstart.
from '../quickstart.groovy'
recipe 'quickstart-dora'

lora {
    useDora true
}
