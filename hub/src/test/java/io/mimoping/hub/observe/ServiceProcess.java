package io.mimoping.hub.observe;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hub or an agent as its own process, started as systemd would with {@code Type=notify} and
 * {@code WatchdogSec=1}: {@code NOTIFY_SOCKET} points at a {@link NotifyReceiver}. Its output is kept, and
 * the port of the first {@code http://127.0.0.1:PORT} (or {@code 0.0.0.0}) it prints (the hub's listener, the
 * agent's control server) is given once printed.
 *
 * @param process the process
 * @param port    the port it printed, once it has
 * @param log     everything it printed so far
 */
record ServiceProcess(Process process, CompletableFuture<Integer> port, StringBuilder log) {

    private static final Pattern LISTENING = Pattern.compile("http://(?:127\\.0\\.0\\.1|0\\.0\\.0\\.0):(\\d+)");

    /** Starts {@code main} with {@code args}. */
    static ServiceProcess start(NotifyReceiver systemd, Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("NOTIFY_SOCKET", systemd.address);
        builder.environment().put("WATCHDOG_USEC", "1000000");
        Process process = builder.start();
        ServiceProcess started = new ServiceProcess(process, new CompletableFuture<>(), new StringBuilder());
        Thread.ofVirtual().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    synchronized (started.log) {
                        started.log.append(line).append('\n');
                    }
                    Matcher listening = LISTENING.matcher(line);
                    if (line.startsWith("mimoping ") && listening.find()) {
                        started.port.complete(Integer.parseInt(listening.group(1)));
                    }
                }
            } catch (IOException e) {
                started.port.completeExceptionally(e);
            }
        });
        return started;
    }

    /** What it printed so far. */
    String output() {
        synchronized (log) {
            return log.toString();
        }
    }
}
