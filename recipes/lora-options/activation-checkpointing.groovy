// The quickstart with activation checkpointing: each encoder layer keeps only its input during the
// forward pass and is run again in backward. Same gradients (the re-run draws the same dropout masks),
// less memory, about 1.5x the step time (`./peft4j bench`: 1932 -> 1210 MB peak at 32 x 128 tokens).
from '../quickstart.groovy'
recipe 'quickstart-checkpointed'

train {
    activationCheckpointing true
}
