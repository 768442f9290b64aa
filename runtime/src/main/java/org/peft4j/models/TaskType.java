package org.peft4j.models;

/** What the model is fine-tuned to do. */
public enum TaskType {
    /** One label per text, from a fixed list: a sequence classifier's head over an encoder or a decoder. */
    CLASSIFICATION,
    /** Next-token prediction with a decoder (Llama family or GPT-2): instructions, chats or plain text. */
    CAUSAL_LM,
    /** Sentence vectors from an encoder (pooled, L2-normalised), trained with a contrastive or regression loss. */
    EMBEDDING
}
