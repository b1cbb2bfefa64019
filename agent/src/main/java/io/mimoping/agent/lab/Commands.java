package io.mimoping.agent.lab;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Runs the system tools that build the lab ({@code ip}, {@code sysctl}) and fails loudly when they do. */
final class Commands {

    private Commands() {
    }

    /**
     * Runs a command to completion.
     *
     * @param input text for its standard input (such as an {@code ip -batch -} script), may be empty
     * @throws IllegalStateException if it exits with a non-zero status; the message holds its output
     */
    static void run(String input, List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (OutputStream stdin = process.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed with status "
                        + process.exitValue() + ": " + output.strip() + (input.isEmpty() ? "" : "\ninput:\n" + input));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
