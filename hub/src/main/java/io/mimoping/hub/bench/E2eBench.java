package io.mimoping.hub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.dispatch.Dispatcher;
import io.mimoping.hub.ws.AgentRegistry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * {@code mimoping bench e2e}: a hub and 4 agents on loopback over a real RabbitMQ, ~10k results/s for
 * 30 s. Prints the latency from an agent's kernel receiving a reply ({@code sent_at + rtt}, same host
 * clock) to the line reaching the client, results/s, and probes without an outcome.
 */
public final class E2eBench {

    private static final String RECV = "{\"type\":\"pkt_recv\"";
    private static final String TIMEOUT = "{\"type\":\"pkt_timeout\"";
    private static final String END = "{\"type\":\"end\"";
    private static final String ERROR = "{\"type\":\"error\"";
    private static final String RTT = "\"rtt\":";
    private static final String SENT_AT = "\"sent_at\":\"";
    /** Replies in this first stretch of the run are also reported apart: JIT compilation and a cold broker. */
    private static final Duration WARM_UP = Duration.ofSeconds(5);

    private E2eBench() {
    }

    public static void main(String[] args) throws Exception {
        String broker = "amqp://guest:guest@127.0.0.1:5672/";
        int agents = 4;
        int targets = 25;
        int intervalMs = 10;
        int seconds = 30;
        boolean agentJvms = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--agents" -> agents = Integer.parseInt(args[++i]);
                case "--targets" -> targets = Integer.parseInt(args[++i]);
                case "--interval" -> intervalMs = Integer.parseInt(args[++i]);
                case "--duration" -> seconds = Integer.parseInt(args[++i]);
                case "--rabbitmq-broker-url" -> broker = args[++i];
                case "--agent-jvms" -> agentJvms = true;
                default -> {
                    System.err.println("usage: mimoping bench e2e [--agents 4] [--targets 25] [--interval MS]"
                            + " [--duration S] [--rabbitmq-broker-url URL] [--agent-jvms]");
                    System.exit(2);
                }
            }
        }
        int count = seconds * 1000 / intervalMs;
        long expected = (long) agents * targets * count;
        System.out.printf("e2e: hub + %d agents (%s), %d loopback targets each every %d ms for %d s: %d probes"
                        + " (~%d results/s)%n", agents, agentJvms ? "a JVM each" : "in the hub's JVM", targets, intervalMs,
                seconds, expected, expected / seconds);
        String hubId = "bench-" + Long.toHexString(System.nanoTime());
        try (IcmpEngine engine = IcmpEngine.open();
             Broker connection = Broker.connect(broker, "mimoping-" + hubId);
             AgentRegistry registry = new AgentRegistry(hubId, Duration.ofSeconds(1), Duration.ofSeconds(3), null);
             Dispatcher dispatcher = new Dispatcher(connection, hubId, Duration.ofSeconds(3))) {
            WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(0);
            Main.setup(builder, new HubSetup(engine, registry,
                    name -> Optional.of(dispatcher.agent(name, registry.find(name).isPresent()))));
            WebServer server = builder.build().start();
            List<AutoCloseable> running = new ArrayList<>();
            StringJoiner from = new StringJoiner("\",\"", "[\"", "\"]");
            List<String> names = new ArrayList<>();
            try {
                for (int a = 0; a < agents; a++) {
                    String name = hubId + "-agent-" + a;
                    String[] agentArgs = {"--node-name", name, "--addr", "127.0.0.1:" + server.port(),
                        "--rabbitmq-broker-url", broker, "--control-addr", "127.0.0.1:0"};
                    running.add(agentJvms ? agentProcess(agentArgs) : AgentMain.start(agentArgs));
                    from.add(name);
                    names.add(name);
                }
                // Registered, then consuming from its queue: the measured task starts with every agent ready.
                for (String name : names) {
                    while (registry.find(name).isEmpty() || !dispatcher.consuming(name)) {
                        Thread.sleep(50);
                    }
                }
                StringJoiner list = new StringJoiner("\",\"", "[\"", "\"]");
                for (int t = 0; t < targets; t++) {
                    list.add("127.9." + (t / 250) + "." + (t % 250 + 1));
                }
                String body = "{\"from\":" + from + ",\"targets\":" + list + ",\"count\":" + count
                        + ",\"interval\":" + intervalMs + ",\"timeout\":1000}";
                run(server.port(), body, expected, seconds);
            } finally {
                for (AutoCloseable agent : running) {
                    agent.close();
                }
                server.stop();
            }
        }
        System.exit(0);
    }

    /** An agent in a JVM of its own, as it runs in production; closing it stops it as SIGTERM does. */
    private static AutoCloseable agentProcess(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), AgentMain.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return () -> {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        };
    }

    private static void run(int port, String body, long expected, int seconds) throws Exception {
        JsonMapper json = JsonMapper.builder().build();
        long[] latency = new long[(int) Math.min(expected, 50_000_000)];
        long[] receivedAt = new long[latency.length];
        int samples = 0;
        HttpResponse<java.io.InputStream> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ping-task"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        long start = System.nanoTime();
        long outcomes = 0;
        long lastReport = start;
        JsonNode end = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String text = line.strip();
                if (text.isEmpty()) {
                    continue;
                }
                long arrived = epochNanos();
                // The client's own cost is part of what is measured: read the two fields, no JSON tree.
                if (text.startsWith(RECV)) {
                    long received = receivedEpochNanos(text);
                    if (samples < latency.length) {
                        receivedAt[samples] = received;
                        latency[samples++] = Math.max(0, arrived - received);
                    }
                    outcomes++;
                } else if (text.startsWith(TIMEOUT)) {
                    outcomes++;
                } else if (text.startsWith(END)) {
                    end = json.readTree(text).get("data");
                } else if (text.startsWith(ERROR)) {
                    System.err.println("\n  " + text); // an error event says why outcomes are missing
                }
                if (System.nanoTime() - lastReport > 1_000_000_000L) {
                    lastReport = System.nanoTime();
                    System.err.printf("\r  %d/%d outcomes   ", outcomes, expected);
                }
            }
        }
        double took = (System.nanoTime() - start) / 1e9;
        System.err.println();
        System.out.printf("results/s %.0f   outcomes %d of %d (lost %d)%n", outcomes / took, outcomes, expected,
                expected - outcomes);
        long[] all = Arrays.copyOf(latency, samples);
        printLatency("latency reply->client, whole run:       ", all);
        long warm = samples == 0 ? 0 : Arrays.stream(receivedAt, 0, samples).min().orElse(0) + WARM_UP.toNanos();
        long[] steady = new long[samples];
        int n = 0;
        for (int i = 0; i < samples; i++) {
            if (receivedAt[i] >= warm) {
                steady[n++] = latency[i];
            }
        }
        printLatency("latency reply->client, after first " + WARM_UP.toSeconds() + " s: ", Arrays.copyOf(steady, n));
        System.out.println("end: " + end);
    }

    private static void printLatency(String label, long[] values) {
        Arrays.sort(values);
        System.out.printf("%s p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms  (%d replies)%n", label,
                percentile(values, 50) / 1e6, percentile(values, 99) / 1e6, percentile(values, 99.9) / 1e6,
                values.length == 0 ? 0 : values[values.length - 1] / 1e6, values.length);
    }

    /**
     * When the agent's kernel received the reply: {@code sent_at + rtt} of a {@code pkt_recv} line,
     * read straight from the text ({@code "rtt":0.062}, {@code "sent_at":"2026-11-27T04:52:53.302487Z"}).
     */
    static long receivedEpochNanos(String line) {
        int r = line.indexOf(RTT) + RTT.length();
        double rttMillis = Double.parseDouble(line.substring(r, line.indexOf(',', r)));
        int s = line.indexOf(SENT_AT) + SENT_AT.length();
        long days = LocalDate.of(digits(line, s, 4), digits(line, s + 5, 2), digits(line, s + 8, 2)).toEpochDay();
        long seconds = days * 86_400 + digits(line, s + 11, 2) * 3600L + digits(line, s + 14, 2) * 60L
                + digits(line, s + 17, 2);
        return seconds * 1_000_000_000L + digits(line, s + 20, 6) * 1_000L + Math.round(rttMillis * 1_000_000);
    }

    private static int digits(String text, int at, int count) {
        int value = 0;
        for (int i = at; i < at + count; i++) {
            value = value * 10 + (text.charAt(i) - '0');
        }
        return value;
    }

    /** Nearest-rank percentile of sorted values, 0 when there are none. */
    private static long percentile(long[] sorted, double percent) {
        return sorted.length == 0 ? 0 : sorted[Math.max(1, (int) Math.ceil(percent * sorted.length / 100.0)) - 1];
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
