// PiSSA (Meng et al. 2024): A and B start from the top-r singular vectors of each weight, and the base keeps
// only the residual, so training starts on the principal directions instead of from B = 0. alpha = r keeps
// the scaling at 1, so the adapter starts as exactly that singular part; the rest is the quickstart.
from '../quickstart.groovy'
recipe 'quickstart-pissa'

lora {
    r 8
    alpha 8
    init 'pissa'
}
