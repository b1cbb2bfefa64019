package io.mimoping.hub.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A hub or agent the benchmarks start as a JVM of its own, with this process's class path, as it runs in
 * production: its output goes to a log file the benchmark reads; its resident memory, open file descriptors
 * and CPU time are read from {@code /proc}. Closing it stops it as SIGTERM does (SIGKILL after 10 s).
 */
public final class JavaProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");

    private final String name;
    private final Process process;
    private final Path log;

    private JavaProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass} with {@code args}, under {@code wrapper} (such as {@code prlimit --nofile=N:N}) when
     * it is not empty, with the JVM options {@code jvm} (such as {@code -XX:StartFlightRecording=...}).
     */
    static JavaProcess start(String name, List<String> wrapper, List<String> jvm, String mainClass, List<String> args)
            throws IOException {
        List<String> command = command(wrapper, jvm, mainClass, args);
        Path log = Files.createTempFile("mimoping-bench-" + name + "-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
        return new JavaProcess(name, process, log);
    }

    /**
     * The command that runs {@code mainClass} with {@code args} in a JVM of this process's java and class path, with
     * the JVM flags the launcher gives it and {@code jvm}, under {@code wrapper} when it is not empty (tests use it too).
     */
    public static List<String> command(List<String> wrapper, List<String> jvm, String mainClass, List<String> args) {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow"); // the gRPC client's shaded Netty, as the launcher says
        }
        command.addAll(jvm);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        return command;
    }

    /** Starts a hub ({@code io.mimoping.hub.Main}) on a free loopback port; waits until it listens. */
    static JavaProcess hub(List<String> wrapper, List<String> jvm, List<String> args)
            throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("--addr", "127.0.0.1:0"));
        all.addAll(args);
        JavaProcess hub = start("hub", wrapper, jvm, "io.mimoping.hub.Main", all);
        try {
            hub.port(Duration.ofSeconds(60));
        } catch (IOException | RuntimeException e) {
            hub.close();
            throw e;
        }
        return hub;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The port of the {@code listening on http://127.0.0.1:PORT} line it printed, waiting up to {@code wait}. */
    int port(Duration wait) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        do { // at least once: a started hub has printed it already
            for (String line : logLines(0)) {
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    return Integer.parseInt(m.group(1));
                }
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited (" + process.exitValue() + ") before listening; its log: " + log);
            }
            Thread.sleep(50);
        } while (System.nanoTime() - deadline < 0);
        throw new IllegalStateException(name + " did not listen within " + wait.toSeconds() + " s; its log: " + log);
    }

    /** The lines it printed, from line {@code from} (counted from 0) on. */
    List<String> logLines(int from) throws IOException {
        List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
        return all.subList(Math.min(from, all.size()), all.size());
    }

    /** Resident memory in KiB; 0 once it exited. */
    long rssKiB() throws IOException {
        try {
            Matcher m = RSS.matcher(Files.readString(Path.of("/proc", String.valueOf(pid()), "status")));
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /** Open file descriptors (sockets, files, pipes); 0 once it exited. */
    int fds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid()), "fd"))) {
            return (int) fds.count();
        } catch (NoSuchFileException e) {
            return 0;
        } catch (UncheckedIOException e) { // it exited while being listed
            return 0;
        }
    }

    /** CPU time it used so far, all threads. */
    Duration cpu() {
        return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
    }

    /** Seconds it spent in garbage collection pauses so far ({@code jstat -gc}: GCT); -1 if jstat could not tell. */
    double gcSeconds() throws IOException, InterruptedException {
        Path jstat = Path.of(System.getProperty("java.home"), "bin", "jstat");
        Process p = new ProcessBuilder(jstat.toString(), "-gc", String.valueOf(pid())).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        p.waitFor();
        if (lines.size() < 2) {
            return -1;
        }
        List<String> names = List.of(lines.get(0).trim().split("\\s+"));
        String[] values = lines.get(1).trim().split("\\s+");
        int at = names.indexOf("GCT");
        return at < 0 || at >= values.length ? -1 : Double.parseDouble(values[at]);
    }

    /** Its live heap in MiB: {@code jcmd PID GC.run}, then the heap in use from {@code GC.heap_info}. */
    double heapMiB() throws IOException, InterruptedException {
        jcmd("GC.run");
        Matcher m = Pattern.compile("used (\\d+)K").matcher(jcmd("GC.heap_info"));
        if (!m.find()) {
            throw new IllegalStateException("no heap figure from jcmd GC.heap_info");
        }
        return Long.parseLong(m.group(1)) / 1024.0;
    }

    /** Runs {@code jcmd PID command}; its output. */
    String jcmd(String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** SIGKILL: it gets no chance to say goodbye. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
