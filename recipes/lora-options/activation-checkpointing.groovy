// The quickstart with activation checkpointing: each encoder layer but the last keeps only its input
// during the forward pass and is run again in backward. Same gradients (the re-run draws the same dropout
// masks), less memory, about 1.4x the step time (`./peft4j bench`: ~1900 -> ~1200-1400 MB peak at 32 x 128).
from '../quickstart.groovy'
recipe 'quickstart-checkpointed'

train {
    activationCheckpointing true
}
