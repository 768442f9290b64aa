package org.peft4j.data;

/** What a reader does with a line it cannot use. */
public enum OnBadLine {
    /** Stop at the first bad line with an error that names the file and line. */
    FAIL,
    /** Leave the line out and count it; the count and the first few problems are reported. */
    SKIP
}
