package io.mimoping.hub;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/** {@code mimoping hub ARGS} as a process of its own, on a free loopback port, with every line it prints kept. */
final class HubProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final int port;

    HubProcess(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--addr", "127.0.0.1:0"));
        command.addAll(List.of(args));
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread.ofVirtual().start(() -> lines.lines().forEach(output::add));
        String listening = await("the hub to say where it listens", Duration.ofSeconds(60),
                line -> LISTENING.matcher(line).find());
        Matcher port = LISTENING.matcher(listening);
        port.find();
        this.port = Integer.parseInt(port.group(1));
    }

    int port() {
        return port;
    }

    /** Every line the hub printed so far (standard output and error). */
    List<String> output() {
        return List.copyOf(output);
    }

    /** The first line printed that matches, waiting up to {@code timeout} for it. */
    String await(String what, Duration timeout, Predicate<String> line) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String printed : output) {
                if (line.test(printed)) {
                    return printed;
                }
            }
            if (!process.isAlive() && output.stream().noneMatch(line)) {
                break;
            }
            Thread.sleep(20);
        }
        return fail("waited for " + what + "; the hub printed:\n" + String.join("\n", output));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
}
