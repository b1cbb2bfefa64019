package io.mimoping.hub.dispatch;

import io.mimoping.agent.process.AgentMain;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** An agent in a process of its own (a JVM from this test's class path), so that a test can SIGKILL it. */
final class AgentProcess implements AutoCloseable {

    /** A line the agent printed, and when the test read it. */
    record Line(String text, long atNanos) {
    }

    private final Process process;
    private final List<Line> output = new CopyOnWriteArrayList<>();

    private AgentProcess(Process process) {
        this.process = process;
        Thread.ofVirtual().name("test-agent-output").start(this::read);
    }

    /** Starts agent {@code name} registering with {@code hub}; its stdout and stderr are kept as lines. */
    static AgentProcess start(TestHub hub, String name) {
        try {
            return new AgentProcess(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    AgentMain.class.getName(), "-node-name", name, "-addr", hub.addr(),
                    "-rabbitmq-broker-url", TestHub.BROKER_URL, "-control-addr", "127.0.0.1:0")
                    .redirectErrorStream(true).start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start an agent process", e);
        }
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                output.add(new Line(line, System.nanoTime()));
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    /** The first line containing {@code text}, waiting for it up to {@code timeout}. */
    Line awaitLine(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (Line line : output) {
                if (line.text().contains(text)) {
                    return line;
                }
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                fail("the agent printed no line with '" + text + "' within " + timeout.toMillis() + " ms: " + output());
            }
            Thread.sleep(10);
        }
    }

    /** What the agent printed so far. */
    String output() {
        StringBuilder text = new StringBuilder();
        output.forEach(line -> text.append(line.text()).append('\n'));
        return text.toString();
    }

    /** SIGKILL: the process ends at once, without a word to anyone; waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            fail("the agent process did not end after SIGKILL");
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
