package io.mimoping.hub.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code mimoping bench fanout}: how many events/s a hub delivers to 1, 10 and 100 concurrent clients of
 * each stream transport (SSE, long-polling, WebSocket). The hub runs as its own process (so that its CPU
 * and heap are its own); one task pings loopback targets and its events stay retained; then, for each
 * case, every client reads the whole task from cursor 0 at once. Prints events/s delivered in total, the
 * hub's CPU (100% = one core) and its live heap after the case (after a full GC: the retained task and what
 * the clients left behind). The clients run in this process, on the same
 * machine.
 */
public final class FanoutBench {

    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern NEXT = Pattern.compile("\"cursor\":(\\d+),\"ended\":(true|false)}$");

    private FanoutBench() {
    }

    private enum Transport { SSE, LONG_POLL, WEBSOCKET }

    public static void main(String[] args) throws Exception {
        int targets = 20;
        int count = 1000;
        int[] clients = {1, 10, 100};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--targets" -> targets = Integer.parseInt(args[++i]);
                case "--count" -> count = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: mimoping bench fanout [--targets 20] [--count 1000]");
                    System.exit(2);
                }
            }
        }
        Process hub = startHub();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            int port = port(hub);
            String base = "http://127.0.0.1:" + port;
            StringJoiner list = new StringJoiner("\",\"", "[\"", "\"]");
            for (int t = 0; t < targets; t++) {
                list.add("127.8." + (t / 250) + "." + (t % 250 + 1));
            }
            String id = start(http, base, "{\"targets\":" + list + ",\"count\":" + count + ",\"interval\":5}");
            long events = longPoll(http, base, id); // waits until the task has ended: its number of events
            System.out.printf("fanout: one task of %d events (%d loopback targets x %d probes), hub pid %d; each client"
                    + " reads it all from cursor 0%n", events, targets, count, hub.pid());
            System.out.printf("%-10s %7s %14s %12s %10s %12s%n", "transport", "clients", "events/s", "seconds",
                    "hub CPU", "live heap");
            for (Transport transport : Transport.values()) {
                for (int n : clients) {
                    Duration cpuBefore = cpu(hub);
                    long started = System.nanoTime();
                    long delivered = fanOut(http, base, id, transport, n);
                    double seconds = (System.nanoTime() - started) / 1e9;
                    double cpu = (cpu(hub).minus(cpuBefore).toNanos() / 1e9) / seconds * 100;
                    if (delivered != events * n) {
                        System.out.printf("  %s x %d: delivered %d events, expected %d%n", transport, n, delivered, events * n);
                    }
                    System.out.printf("%-10s %7d %14.0f %12.2f %9.0f%% %10.0f MiB%n", transport.name().toLowerCase(), n,
                            delivered / seconds, seconds, cpu, heapMiB(hub));
                }
            }
        } finally {
            hub.destroy();
            hub.waitFor();
        }
        System.exit(0);
    }

    private static Process startHub() throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.mimoping.hub.Main", "--addr", "127.0.0.1:0",
                "--retain-events", "10000000", "--retain-bytes", String.valueOf(1L << 30))
                .redirectErrorStream(true)
                .start();
    }

    private static int port(Process hub) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(hub.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                int port = Integer.parseInt(m.group(1));
                Thread.ofVirtual().start(() -> {
                    try {
                        out.lines().forEach(l -> { });
                    } catch (UncheckedIOException e) {
                        // the hub stopped
                    }
                });
                return port;
            }
        }
        throw new IllegalStateException("the hub exited before listening");
    }

    private static String start(HttpClient http, String base, String body) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f]+)\"").matcher(response.body());
        if (response.statusCode() != 201 || !m.find()) {
            throw new IllegalStateException("POST /tasks answered " + response.statusCode() + ": " + response.body());
        }
        return m.group(1);
    }

    private static String get(HttpClient http, String uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static Matcher next(String page) {
        Matcher m = NEXT.matcher(page);
        if (!m.find()) {
            throw new IllegalStateException("not a long-poll page: " + page.substring(Math.max(0, page.length() - 200)));
        }
        return m;
    }

    /** {@code n} clients read the whole task at once; the events they got in total. */
    private static long fanOut(HttpClient http, String base, String id, Transport transport, int n) throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Long>> readers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                readers.add(threads.submit(() -> switch (transport) {
                    case SSE -> sse(http, base, id);
                    case LONG_POLL -> longPoll(http, base, id);
                    case WEBSOCKET -> webSocket(http, base, id);
                }));
            }
            long total = 0;
            for (Future<Long> reader : readers) {
                total += reader.get();
            }
            return total;
        }
    }

    /** Counts the events of an SSE stream: each ends with an empty line. */
    private static long sse(HttpClient http, String base, String id) throws IOException, InterruptedException {
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks/" + id + "/events"))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        long events = 0;
        byte[] buffer = new byte[64 * 1024];
        int previous = 0;
        try (InputStream in = response.body()) {
            for (int read; (read = in.read(buffer)) > 0; ) {
                for (int i = 0; i < read; i++) {
                    if (buffer[i] == '\n' && previous == '\n') {
                        events++;
                    }
                    previous = buffer[i];
                }
            }
        }
        return events;
    }

    /** Long-polls the whole task; the number of its events. */
    private static long longPoll(HttpClient http, String base, String id) throws IOException, InterruptedException {
        long cursor = 0;
        while (true) {
            Matcher m = next(get(http, base + "/tasks/" + id + "/events?cursor=" + cursor + "&wait=25s"));
            cursor = Long.parseLong(m.group(1));
            if (m.group(2).equals("true")) {
                return cursor;
            }
        }
    }

    private static long webSocket(HttpClient http, String base, String id) {
        AtomicLong events = new AtomicLong();
        CompletableFuture<Long> done = new CompletableFuture<>();
        http.newWebSocketBuilder().buildAsync(URI.create(base.replace("http:", "ws:") + "/tasks/" + id + "/ws"),
                new WebSocket.Listener() {
                    @Override
                    public void onOpen(WebSocket webSocket) {
                        webSocket.request(Long.MAX_VALUE);
                    }

                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        if (last) {
                            events.incrementAndGet();
                        }
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                        done.complete(events.get());
                        return null;
                    }

                    @Override
                    public void onError(WebSocket webSocket, Throwable error) {
                        done.completeExceptionally(error);
                    }
                }).join();
        return done.join();
    }

    private static Duration cpu(Process hub) {
        return hub.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
    }

    /** The hub's live heap after the case: {@code jcmd PID GC.run}, then the heap in use from {@code GC.heap_info}. */
    private static double heapMiB(Process hub) throws IOException, InterruptedException {
        jcmd(hub, "GC.run");
        Matcher m = Pattern.compile("used (\\d+)K").matcher(jcmd(hub, "GC.heap_info"));
        if (!m.find()) {
            throw new IllegalStateException("no heap figure from jcmd GC.heap_info");
        }
        return Long.parseLong(m.group(1)) / 1024.0;
    }

    private static String jcmd(Process hub, String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(hub.pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
