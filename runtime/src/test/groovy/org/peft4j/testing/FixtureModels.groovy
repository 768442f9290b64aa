package org.peft4j.testing

import com.fasterxml.jackson.databind.ObjectMapper

import java.nio.file.Files
import java.nio.file.Path

/** Copies of the fixtures' model directories with an edited config.json, for specs about config fields. */
class FixtureModels {

    /** A field given this value is deleted from config.json. */
    static final Object REMOVE = new Object()

    /**
     * The model directory of fixture {@code name} copied to {@code dir}, with {@code overrides} set in
     * its config.json (a null value writes null, {@link #REMOVE} deletes the field).
     */
    static Path copy(String name, Path dir, Map overrides = [:]) {
        Path from = HfFixture.load(name).modelDir
        Files.createDirectories(dir)
        Files.list(from).withCloseable { files -> files.each { Files.copy(it, dir.resolve(it.fileName.toString())) } }
        if (overrides) {
            def json = new ObjectMapper()
            Map config = json.readValue(dir.resolve('config.json').toFile(), Map)
            overrides.each { k, v -> v.is(REMOVE) ? config.remove(k) : config.put(k, v) }
            Files.writeString(dir.resolve('config.json'), json.writeValueAsString(config))
        }
        dir
    }
}
