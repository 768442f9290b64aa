package org.peft4j.cli

/**
 * Whether output may carry ANSI escapes (colours): only on an interactive terminal, and never when the
 * {@code NO_COLOR} environment variable is set to a non-empty value (https://no-color.org). Logs, pipes and
 * {@code run.log} stay plain text.
 */
final class Terminal {

    private Terminal() {
    }

    /** True when the JVM runs on an interactive terminal (standard input and output not redirected). */
    static boolean interactive() {
        System.console() != null
    }

    static boolean colors() {
        colors(System.getenv(), interactive())
    }

    static boolean colors(Map<String, String> env, boolean interactive) {
        interactive && !env.get('NO_COLOR')
    }
}
