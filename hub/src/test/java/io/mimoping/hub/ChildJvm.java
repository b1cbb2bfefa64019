package io.mimoping.hub;

import io.mimoping.hub.bench.JavaProcess;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A mimoping main (the hub's, an agent's) in a JVM of its own from this test's class path, started with the JVM flags
 * the launcher gives it, so that a test can signal it, limit it ({@code prlimit}) or watch it as systemd does. Every line
 * it prints, on standard output or error, is kept with the time the test read it.
 */
public final class ChildJvm implements AutoCloseable {

    /** A line the process printed, and when the test read it ({@link System#nanoTime()}). */
    public record Line(String text, long atNanos) {
    }

    /** The line a hub prints when it listens, or an agent when its control server does. */
    private static final Pattern LISTENING =
            Pattern.compile("^mimoping .*http://(?:127\\.0\\.0\\.1|0\\.0\\.0\\.0|\\[::1?]):(\\d+)");

    private final Process process;
    private final List<Line> output = new CopyOnWriteArrayList<>();
    /** Whether every line it printed has been read (its output ended). */
    private volatile boolean drained;

    private ChildJvm(Process process) {
        this.process = process;
        Thread.ofVirtual().name("test-child-output").start(this::read);
    }

    /** Starts {@code main} with {@code args}. */
    public static ChildJvm start(Class<?> main, String... args) {
        return start(main, Map.of(), List.of(args));
    }

    /** Starts {@code main} with {@code args} and {@code env} added to this JVM's environment. */
    public static ChildJvm start(Class<?> main, Map<String, String> env, List<String> args) {
        return start(List.of(), main, env, args);
    }

    /** Starts {@code main} with {@code args} behind {@code prefix}, a command that runs it (such as {@code prlimit …}). */
    public static ChildJvm start(List<String> prefix, Class<?> main, Map<String, String> env, List<String> args) {
        ProcessBuilder builder = new ProcessBuilder(JavaProcess.command(prefix, List.of(), main.getName(), args))
                .redirectErrorStream(true);
        builder.environment().putAll(env);
        try {
            return new ChildJvm(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + main.getSimpleName() + " in a process of its own", e);
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
        } finally {
            drained = true;
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** The port of the first {@code mimoping … http://HOST:PORT} line (where a hub or a control server listens). */
    public int port(Duration timeout) throws InterruptedException {
        Matcher listening = LISTENING.matcher(awaitLine("the line saying where it listens", timeout,
                line -> LISTENING.matcher(line).find()).text());
        listening.find();
        return Integer.parseInt(listening.group(1));
    }

    /** The first line containing {@code text}, waiting up to {@code timeout} for it. */
    public Line awaitLine(String text, Duration timeout) throws InterruptedException {
        return awaitLine("a line with '" + text + "'", timeout, line -> line.contains(text));
    }

    /** The first line that matches, waiting up to {@code timeout} for it; fails with what was printed. */
    public Line awaitLine(String what, Duration timeout, Predicate<String> matches) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean ended = drained;
            for (Line line : output) {
                if (matches.test(line.text())) {
                    return line;
                }
            }
            if (ended || System.nanoTime() > deadline) {
                return fail("waited " + timeout.toMillis() + " ms for " + what + (ended ? " (the process ended)" : "")
                        + "; it printed:\n" + output());
            }
            Thread.sleep(10);
        }
    }

    /** Every line printed so far. */
    public List<String> lines() {
        return output.stream().map(Line::text).toList();
    }

    /** Everything printed so far, a line each. */
    public String output() {
        StringBuilder text = new StringBuilder();
        output.forEach(line -> text.append(line.text()).append('\n'));
        return text.toString();
    }

    /** Waits for the process to end and for all it printed; its exit status. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            fail("still running after " + timeout.toMillis() + " ms; it printed:\n" + output());
        }
        while (!drained && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return process.exitValue();
    }

    /** SIGKILL: the process ends at once, without a word to anyone; waits until it is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            fail("the process did not end after SIGKILL");
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
