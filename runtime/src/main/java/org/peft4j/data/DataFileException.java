package org.peft4j.data;

import java.nio.file.Path;

/**
 * A data file that cannot be used as it is. The message starts with {@code file:line:} (or
 * {@code file:} for a problem with the whole file) so that editors and terminals can jump to it.
 */
public final class DataFileException extends IllegalArgumentException {

    private final Path file;
    private final long line;

    public DataFileException(Path file, long line, String problem) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    /** 1-based line number, or 0 when the problem is with the whole file. */
    public long line() {
        return line;
    }
}
