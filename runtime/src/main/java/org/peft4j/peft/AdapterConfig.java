package org.peft4j.peft;

import java.util.List;

/** What every adapter method's settings say about where the adapter goes and what else is saved. */
public interface AdapterConfig {

    /** The method, as {@code adapter_config.json}'s {@code peft_type}. */
    PeftType peftType();

    /** Which linear layers get an adapter. */
    TargetSpec targeting();

    /** Modules trained in full and saved with the adapter (names or dotted suffixes of module paths). */
    List<String> modulesToSave();
}
