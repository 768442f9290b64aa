// Rank-stabilised LoRA (Kalajdzievski 2023): the update is scaled by alpha / sqrt(r) instead of alpha / r,
// so a larger rank does not shrink the update. Here r 32 with alpha 16 scales by 16 / sqrt(32) ≈ 2.8,
// against plain LoRA's 16 / 32 = 0.5; the rest is the quickstart.
from '../quickstart.groovy'
recipe 'quickstart-rslora'

lora {
    r 32
    alpha 16
    rsLora true
}
