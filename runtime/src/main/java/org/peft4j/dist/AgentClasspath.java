package org.peft4j.dist;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the c10d agent's classes are: the system property {@code peft4j.c10d.classpath} (the launcher and the
 * build set it), else a {@code c10d/target} next to the module this class was loaded from (a source checkout).
 * The agent carries libtorch 2.10, which must never be on the worker's own classpath.
 */
final class AgentClasspath {

    static final String PROPERTY = "peft4j.c10d.classpath";

    private AgentClasspath() {
    }

    static String find() {
        String given = System.getProperty(PROPERTY);
        if (given != null && !given.isBlank()) {
            for (String entry : given.split(File.pathSeparator)) {
                Path path = Path.of(entry.endsWith("*") ? entry.substring(0, entry.length() - 1) : entry);
                if (!entry.isBlank() && !Files.exists(path)) {
                    throw new DistributedException(PROPERTY + " names " + path + ", which does not exist; build the"
                            + " c10d agent with 'mvn -pl c10d package' (the ./peft4j launcher and 'mvn verify' do)");
                }
            }
            return given;
        }
        return fromCheckout().orElseThrow(() -> new DistributedException("cannot find the c10d agent that runs the"
                + " collectives: set -D" + PROPERTY + "=<c10d jar>:<its lib dir>/* (the ./peft4j launcher does), or"
                + " build it with 'mvn -pl c10d package' in the source tree"));
    }

    /** A c10d/target beside runtime/target or dsl/target, up from this class's jar or class folder. */
    private static Optional<String> fromCheckout() {
        Path here;
        try {
            here = Path.of(AgentClasspath.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
        for (Path dir = here; dir != null; dir = dir.getParent()) {
            Path target = dir.resolve("c10d").resolve("target");
            Optional<Path> jar = agentJar(target);
            if (jar.isPresent() && Files.isDirectory(target.resolve("lib"))) {
                return Optional.of(jar.get() + File.pathSeparator + target.resolve("lib") + File.separator + "*");
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> agentJar(Path target) {
        if (!Files.isDirectory(target)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith("peft4j-c10d-") && name.endsWith(".jar") && !name.endsWith("-sources.jar");
            }).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
