package io.mimoping.hub.bench;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.bench.Percentiles;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.dispatch.Dispatcher;
import io.mimoping.hub.ws.AgentRegistry;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;

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

    private E2eBench() {
    }

    public static void main(String[] args) throws Exception {
        String broker = "amqp://guest:guest@127.0.0.1:5672/";
        int agents = 4;
        int targets = 25;
        int intervalMs = 10;
        int seconds = 30;
        int warmUpSeconds = 5;
        boolean agentJvms = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--agents" -> agents = Integer.parseInt(args[++i]);
                case "--targets" -> targets = Integer.parseInt(args[++i]);
                case "--interval" -> intervalMs = Integer.parseInt(args[++i]);
                case "--duration" -> seconds = Integer.parseInt(args[++i]);
                case "--warm-up" -> warmUpSeconds = Integer.parseInt(args[++i]);
                case "--rabbitmq-broker-url" -> broker = args[++i];
                case "--agent-jvms" -> agentJvms = true;
                default -> {
                    System.err.println("usage: mimoping bench e2e [--agents 4] [--targets 25] [--interval MS]"
                            + " [--duration S] [--warm-up S] [--rabbitmq-broker-url URL] [--agent-jvms]");
                    System.exit(2);
                }
            }
        }
        int count = seconds * 1000 / intervalMs;
        long expected = (long) agents * targets * count;
        System.out.printf("e2e: hub + %d agents (%s), %d loopback targets each every %d ms for %d s: %d probes"
                        + " (~%d results/s), after a %d s warm-up at the same load%n", agents,
                agentJvms ? "a JVM each" : "in the hub's JVM", targets, intervalMs, seconds, expected, expected / seconds,
                warmUpSeconds);
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
                    running.add(agentJvms ? JavaProcess.start(name, List.of(), List.of(), AgentMain.class.getName(), List.of(agentArgs))
                            : AgentMain.start(agentArgs));
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
                String task = "{\"from\":" + from + ",\"targets\":" + list + ",\"interval\":" + intervalMs
                        + ",\"timeout\":1000,\"count\":";
                if (warmUpSeconds > 0) {
                    // JIT compilation and a cold broker: a hub runs for days, its first seconds say little
                    int warmCount = warmUpSeconds * 1000 / intervalMs;
                    stream(server.port(), task + warmCount + "}", (long) agents * targets * warmCount)
                            .print("warm-up (not in the figures below)");
                }
                Run run = stream(server.port(), task + count + "}", expected);
                run.print("measured");
                System.out.println("end: " + run.end());
            } finally {
                for (AutoCloseable agent : running) {
                    agent.close();
                }
                server.stop();
            }
        }
        System.exit(0);
    }

    /** What one task's stream gave: outcomes, how long it took, and each reply's latency (sorted). */
    private record Run(long expected, long outcomes, double seconds, long[] latency, String end) {

        void print(String label) {
            System.out.printf("%s: results/s %.0f   outcomes %d of %d (lost %d)%n", label, outcomes / seconds, outcomes,
                    expected, expected - outcomes);
            System.out.printf("%s: latency reply->client  p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms"
                            + "  (%d replies)%n", label, Percentiles.of(latency, 50) / 1e6,
                    Percentiles.of(latency, 99) / 1e6, Percentiles.of(latency, 99.9) / 1e6,
                    latency.length == 0 ? 0 : latency[latency.length - 1] / 1e6, latency.length);
        }
    }

    /** Posts the task and reads its stream to the end, timing each reply line as it arrives. */
    private static Run stream(int port, String body, long expected) throws IOException {
        long[] latency = new long[(int) Math.min(expected, 50_000_000)];
        int samples = 0;
        long start = System.nanoTime();
        long outcomes = 0;
        long lastReport = start;
        String end = null;
        try (StreamingPost in = new StreamingPost(port, "/ping-task", body)) {
            String line;
            while ((line = in.readLine()) != null) {
                String text = line.strip();
                if (text.isEmpty()) {
                    continue;
                }
                long arrived = epochNanos();
                // The client's own cost is part of what is measured: read the two fields, no JSON tree.
                if (text.startsWith(RECV)) {
                    if (samples < latency.length) {
                        latency[samples++] = Math.max(0, arrived - receivedEpochNanos(text));
                    }
                    outcomes++;
                } else if (text.startsWith(TIMEOUT)) {
                    outcomes++;
                } else if (text.startsWith(END)) {
                    end = text;
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
        long[] sorted = Arrays.copyOf(latency, samples);
        Arrays.sort(sorted);
        return new Run(expected, outcomes, took, sorted, end);
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

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
