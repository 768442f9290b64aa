package org.peft4j.data;

/** Where a batch puts its padding. Training pads on the right; batched generation pads on the left. */
public enum PaddingSide {
    LEFT, RIGHT
}
