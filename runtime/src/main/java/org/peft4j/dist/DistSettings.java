package org.peft4j.dist;

import java.util.Map;

/**
 * How long a worker waits for its peers, from a system property or else the environment:
 * {@code peft4j.dist.timeout} / {@code PEFT4J_DIST_TIMEOUT} for joining the group (seconds, default 60),
 * {@code peft4j.dist.collectiveTimeout} / {@code PEFT4J_DIST_COLLECTIVE_TIMEOUT} for one collective once
 * joined (seconds, default 1800 as in PyTorch: rank 0 may be evaluating or saving while the others wait).
 */
public record DistSettings(int connectTimeoutSeconds, int collectiveTimeoutSeconds) {

    public static final int DEFAULT_CONNECT_TIMEOUT_SECONDS = 60;
    public static final int DEFAULT_COLLECTIVE_TIMEOUT_SECONDS = 1800;

    public DistSettings {
        if (connectTimeoutSeconds < 1) {
            throw new DistributedException("the connect timeout is " + connectTimeoutSeconds + " s; it must be at least 1");
        }
        if (collectiveTimeoutSeconds < 1) {
            throw new DistributedException("the collective timeout is " + collectiveTimeoutSeconds
                    + " s; it must be at least 1");
        }
    }

    /** The settings this process was given (system properties first, then the environment). */
    public static DistSettings current() {
        return from(System.getProperties().entrySet().stream().collect(java.util.stream.Collectors.toMap(
                e -> String.valueOf(e.getKey()), e -> String.valueOf(e.getValue()))), System.getenv());
    }

    static DistSettings from(Map<String, String> properties, Map<String, String> env) {
        return new DistSettings(
                seconds(properties, env, "peft4j.dist.timeout", "PEFT4J_DIST_TIMEOUT", DEFAULT_CONNECT_TIMEOUT_SECONDS),
                seconds(properties, env, "peft4j.dist.collectiveTimeout", "PEFT4J_DIST_COLLECTIVE_TIMEOUT",
                        DEFAULT_COLLECTIVE_TIMEOUT_SECONDS));
    }

    private static int seconds(Map<String, String> properties, Map<String, String> env, String property,
                               String variable, int fallback) {
        String name = property;
        String value = properties.get(property);
        if (value == null || value.isBlank()) {
            name = variable;
            value = env.get(variable);
        }
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int seconds = Integer.parseInt(value.trim());
            if (seconds >= 1) {
                return seconds;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new DistributedException(name + " is '" + value.trim() + "'; it must be a whole number of seconds, at least 1");
    }
}
