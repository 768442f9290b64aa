package org.peft4j.models;

/** Where a model's weights come from. */
public enum ModelInit {
    /** The checkpoint in the model directory. */
    PRETRAINED,
    /** Random weights in the shape of the directory's config.json: training from scratch. */
    RANDOM
}
