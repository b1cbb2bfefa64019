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
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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

    private E2eBench() {
    }

    public static void main(String[] args) throws Exception {
        String broker = "amqp://guest:guest@127.0.0.1:5672/";
        int agents = 4;
        int targets = 25;
        int intervalMs = 10;
        int seconds = 30;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--agents" -> agents = Integer.parseInt(args[++i]);
                case "--targets" -> targets = Integer.parseInt(args[++i]);
                case "--interval" -> intervalMs = Integer.parseInt(args[++i]);
                case "--duration" -> seconds = Integer.parseInt(args[++i]);
                case "--rabbitmq-broker-url" -> broker = args[++i];
                default -> {
                    System.err.println("usage: mimoping bench e2e [--agents 4] [--targets 25] [--interval MS]"
                            + " [--duration S] [--rabbitmq-broker-url URL]");
                    System.exit(2);
                }
            }
        }
        int count = seconds * 1000 / intervalMs;
        long expected = (long) agents * targets * count;
        System.out.printf("e2e: hub + %d agents, %d loopback targets each every %d ms for %d s: %d probes (~%d results/s)%n",
                agents, targets, intervalMs, seconds, expected, expected / seconds);
        String hubId = "bench-" + Long.toHexString(System.nanoTime());
        try (IcmpEngine engine = IcmpEngine.open();
             Broker connection = Broker.connect(broker, "mimoping-" + hubId);
             AgentRegistry registry = new AgentRegistry(hubId, Duration.ofSeconds(1), Duration.ofSeconds(3), null);
             Dispatcher dispatcher = new Dispatcher(connection, hubId, Duration.ofSeconds(3))) {
            WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(0);
            Main.setup(builder, new HubSetup(engine, registry, name -> Optional.of(dispatcher.agent(name))));
            WebServer server = builder.build().start();
            List<AgentMain> running = new ArrayList<>();
            StringJoiner from = new StringJoiner("\",\"", "[\"", "\"]");
            try {
                for (int a = 0; a < agents; a++) {
                    String name = hubId + "-agent-" + a;
                    running.add(AgentMain.start("--node-name", name, "--addr", "127.0.0.1:" + server.port(),
                            "--rabbitmq-broker-url", broker, "--control-addr", "127.0.0.1:0"));
                    from.add(name);
                }
                while (registry.list().size() < agents) {
                    Thread.sleep(50);
                }
                Thread.sleep(500);
                StringJoiner list = new StringJoiner("\",\"", "[\"", "\"]");
                for (int t = 0; t < targets; t++) {
                    list.add("127.9." + (t / 250) + "." + (t % 250 + 1));
                }
                String body = "{\"from\":" + from + ",\"targets\":" + list + ",\"count\":" + count
                        + ",\"interval\":" + intervalMs + ",\"timeout\":1000}";
                run(server.port(), body, expected, seconds);
            } finally {
                running.forEach(AgentMain::close);
                server.stop();
            }
        }
        System.exit(0);
    }

    private static void run(int port, String body, long expected, int seconds) throws Exception {
        JsonMapper json = JsonMapper.builder().build();
        long[] latency = new long[(int) Math.min(expected, 50_000_000)];
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
                JsonNode event = json.readTree(text);
                String type = event.get("type").asText();
                if (type.equals("pkt_recv")) {
                    JsonNode data = event.get("data");
                    Instant sent = Instant.parse(data.get("sent_at").asText());
                    long received = sent.getEpochSecond() * 1_000_000_000L + sent.getNano()
                            + Math.round(data.get("rtt").asDouble() * 1_000_000);
                    if (samples < latency.length) {
                        latency[samples++] = Math.max(0, arrived - received);
                    }
                    outcomes++;
                } else if (type.equals("pkt_timeout")) {
                    outcomes++;
                } else if (type.equals("end")) {
                    end = event.get("data");
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
        System.out.printf("results/s %.0f   outcomes %d of %d (lost %d)   latency reply->client p50 %.2f ms  p99 %.2f ms"
                        + "  max %.2f ms%n", outcomes / took, outcomes, expected, expected - outcomes,
                percentile(sorted, 50) / 1e6, percentile(sorted, 99) / 1e6,
                sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6);
        System.out.println("end: " + end);
    }

    /** Nearest-rank percentile of sorted values, 0 when there are none. */
    private static long percentile(long[] sorted, int percent) {
        return sorted.length == 0 ? 0 : sorted[Math.max(1, (int) Math.ceil(percent * sorted.length / 100.0)) - 1];
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
