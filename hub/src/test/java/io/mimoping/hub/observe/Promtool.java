package io.mimoping.hub.observe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code promtool check metrics} (Debian's prometheus package) on a scrape. */
public final class Promtool {

    private Promtool() {
    }

    /** Checks {@code exposition}, failing the test if promtool refuses it; returns its complaints. */
    public static String check(String exposition) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        process.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "promtool finished");
        assertEquals(0, process.exitValue(), "promtool check metrics: " + output);
        return output;
    }
}
