package org.peft4j.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process, from /proc (Linux); -1 where that is not available. */
public final class MemoryStats {

    private MemoryStats() {
    }

    /** Peak resident set size in bytes (VmHWM). */
    public static long peakRssBytes() {
        return statusField("VmHWM:");
    }

    /** Current resident set size in bytes (VmRSS). */
    public static long rssBytes() {
        return statusField("VmRSS:");
    }

    private static long statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
