package org.peft4j.repl

import org.jline.terminal.Size
import org.jline.terminal.Terminal
import org.jline.terminal.impl.ExternalTerminal
import org.peft4j.cli.ReplCommand

import java.nio.charset.StandardCharsets
import java.nio.file.Path

/**
 * The REPL on a JLine terminal over piped streams (JLine's ExternalTerminal, which emulates a pty's line
 * discipline, Ctrl-C included), run on its own thread; the spec types into it and reads what it printed.
 */
class ReplTerminal implements Closeable {

    private final PipedOutputStream keys = new PipedOutputStream()
    private final ByteArrayOutputStream screen = new ByteArrayOutputStream()
    private final Terminal terminal
    private final Thread thread
    Throwable failure

    ReplTerminal(Path history) {
        PipedInputStream input = new PipedInputStream(keys, 1 << 16)
        OutputStream output = new OutputStream() {
            @Override
            void write(int b) {
                synchronized (screen) { screen.write(b) }
            }

            @Override
            void write(byte[] b, int off, int len) {
                synchronized (screen) { screen.write(b, off, len) }
            }
        }
        // JLine's own line discipline, not an operating-system pty: a pty that is not the process's controlling
        // terminal would never deliver Ctrl-C's SIGINT to it
        terminal = new ExternalTerminal('spec', 'xterm', input, output, StandardCharsets.UTF_8)
        terminal.setSize(new Size(160, 50))
        ReplCommand command = new ReplCommand()
        Repl repl = new Repl(command.context(terminal.writer(), false))
        thread = Thread.start('repl') {
            try {
                repl.interactive(terminal, history)
            } catch (Throwable e) {
                failure = e
            }
        }
    }

    /** Everything printed so far, escape sequences removed. */
    String screen() {
        synchronized (screen) {
            screen.toString('UTF-8').replaceAll(/\u001B\[[0-9;?]*[A-Za-z]|\u001B[=>]|\r/, '')
        }
    }

    void type(String text) {
        keys.write(text.getBytes(StandardCharsets.UTF_8))
        keys.flush()
    }

    /** Types a line, waits until the REPL prompts again, and returns what the screen shows since (the echo too). */
    String line(String text, long seconds = 600) {
        waitUntil(seconds) { screen().endsWith('peft4j> ') }
        String before = screen()
        int prompts = before.count('peft4j> ')
        type(text + '\n')
        waitUntil(seconds) { screen().count('peft4j> ') > prompts }
        String now = screen()
        now.substring(before.length(), now.lastIndexOf('peft4j> '))
    }

    void waitUntil(long seconds, Closure<Boolean> done) {
        long end = System.nanoTime() + seconds * 1_000_000_000L
        while (!done.call()) {
            if (failure != null) {
                throw new IllegalStateException('the REPL failed', failure)
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("waited ${seconds} s; the screen:\n${screen()}")
            }
            sleep(20)
        }
    }

    @Override
    void close() {
        type(':quit\n')
        thread.join(30_000)
        terminal.close()
    }
}
