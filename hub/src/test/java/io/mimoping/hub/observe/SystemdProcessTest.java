package io.mimoping.hub.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.hub.ChildJvm;
import io.mimoping.hub.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub and an agent as systemd runs them: real processes with {@code NOTIFY_SOCKET} and
 * {@code WATCHDOG_USEC} pointing at sockets this test owns, a real RabbitMQ, SIGTERM to stop.
 */
class SystemdProcessTest {

    private static final String BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/";
    private static final Duration WAIT = Duration.ofSeconds(40);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void readyOnlyOnceRegisteredThenWatchdogStatusMetricsAndACleanStop() throws Exception {
        String agentName = "sd-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        int hubPort;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            hubPort = free.getLocalPort();
        }
        String hubAddr = "127.0.0.1:" + hubPort;
        try (NotifyReceiver agentSystemd = new NotifyReceiver("@mimoping-test-" + agentName);
             NotifyReceiver hubSystemd = new NotifyReceiver(dir.resolve("hub.notify").toString())) {
            // The agent starts first: its hub is not there yet.
            ChildJvm agent = agentSystemd.start(AgentMain.class, "--node-name", agentName, "--addr", hubAddr,
                    "--rabbitmq-broker-url", BROKER_URL, "--control-addr", "127.0.0.1:0", "--log-format", "json");
            ChildJvm hub = null;
            try {
                String control = "http://127.0.0.1:" + agent.port(WAIT);
                agentSystemd.await(m -> m.has("STATUS=connecting to the hub at " + hubAddr), WAIT, "the agent's status");
                long waiting = System.nanoTime();
                Thread.sleep(2_000);
                assertEquals(0, agentSystemd.count("READY=1", 0), "no READY=1 before registration: " + agentSystemd.messages());
                assertTrue(agentSystemd.count("WATCHDOG=1", waiting) >= 3, "live while it waits for its hub: "
                        + agentSystemd.messages());
                assertEquals(503, get(control + "/health/ready").statusCode());
                assertTrue(get(control + "/health/ready").body().contains("\"registered\":{\"status\":\"DOWN\""));
                assertEquals(200, get(control + "/health/live").statusCode());

                hub = hubSystemd.start(Main.class, "--addr", hubAddr, "--rabbitmq-broker-url", BROKER_URL,
                        "--heartbeat", "1000");
                String hubUrl = "http://" + hubAddr;
                NotifyReceiver.Message hubReady = hubSystemd.await(m -> m.has("READY=1"), WAIT, "the hub's READY=1");
                assertTrue(hubReady.has("STATUS=serving on port " + hubPort), hubReady.text());
                NotifyReceiver.Message agentReady = agentSystemd.await(m -> m.has("READY=1"), WAIT, "the agent's READY=1");
                assertTrue(agentReady.at() > hubReady.at(), "the agent is ready after its hub");
                assertTrue(get(hubUrl + "/conns").body().contains("\"name\":\"" + agentName + "\""),
                        "the hub lists the agent once it says READY=1");
                assertTrue(agentReady.has("STATUS=registered with hub-"), agentReady.text());

                long ready = System.nanoTime();
                Thread.sleep(2_000);
                assertTrue(agentSystemd.count("WATCHDOG=1", ready) >= 3, "agent pings every 500 ms: " + agentSystemd.messages());
                assertTrue(hubSystemd.count("WATCHDOG=1", ready) >= 3, "hub pings every 500 ms: " + hubSystemd.messages());
                assertEquals(200, get(control + "/health/ready").statusCode());
                assertEquals(200, get(hubUrl + "/health/ready").statusCode());
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(hubUrl + "/health/ready"))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode(), "load balancers probe with HEAD");

                List<JsonNode> events = pingTask(hubUrl, agentName, 3, 50, 0);
                assertEquals("end", events.getLast().get("type").asText());
                String agentMetrics = get(control + "/metrics").body();
                String hubMetrics = get(hubUrl + "/metrics").body();
                assertEquals("", Promtool.check(agentMetrics));
                assertEquals("", Promtool.check(hubMetrics));
                assertEquals(3, value(agentMetrics, "mimoping_replies_total"));
                assertEquals(3, value(agentMetrics, "mimoping_rtt_seconds_count"));
                assertEquals(1, value(agentMetrics, "mimoping_hub_registered"));
                assertTrue(value(agentMetrics, "mimoping_rabbitmq_publish_confirms_total") >= 2, agentMetrics);
                assertEquals(1, value(hubMetrics, "mimoping_agents_connected"));
                assertEquals(1, value(hubMetrics, "mimoping_client_streams_total{transport=\"ndjson\"}"));
                assertTrue(value(hubMetrics, "mimoping_rabbitmq_publish_confirms_total") >= 1, hubMetrics);

                // SIGTERM while a task runs: its probes in flight end with an explicit error, the stream ends.
                List<JsonNode> stopped = pingTask(hubUrl, agentName, 100, 100, 3, agent.process());
                assertTrue(agent.process().waitFor(30, TimeUnit.SECONDS), "the agent exits after SIGTERM");
                assertEquals(143, agent.process().exitValue(), "a clean stop on SIGTERM (128 + 15)");
                agentSystemd.await(m -> m.has("STOPPING=1"), WAIT, "the agent's STOPPING=1");
                List<JsonNode> errors = stopped.stream().filter(e -> e.get("type").asText().equals("error")).toList();
                assertEquals(1, errors.size(), errors.toString());
                assertEquals("engine_stopped", errors.getFirst().get("data").get("code").asText());
                assertEquals(agentName, errors.getFirst().get("metadata").get("from").asText());
                assertEquals("end", stopped.getLast().get("type").asText());
                assertTrue(agent.output().contains("\"agent\":\"" + agentName + "\""), "JSON log lines: " + agent.output());

                hub.process().destroy();
                assertTrue(hub.process().waitFor(30, TimeUnit.SECONDS), "the hub exits after SIGTERM");
                assertEquals(143, hub.process().exitValue());
                hubSystemd.await(m -> m.has("STOPPING=1"), WAIT, "the hub's STOPPING=1");
            } finally {
                agent.process().destroyForcibly();
                if (hub != null) {
                    hub.process().destroyForcibly();
                }
            }
        }
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Runs a task on the agent; after {@code stopAfter} replies (if > 0) it sends SIGTERM to {@code agent}. */
    private List<JsonNode> pingTask(String hubUrl, String agentName, int count, int interval, int stopAfter,
                                    Process... agent) throws IOException, InterruptedException {
        String body = "{\"from\":[\"" + agentName + "\"],\"targets\":[\"127.0.0.1\"],\"count\":" + count
                + ",\"interval\":" + interval + "}";
        HttpResponse<java.util.stream.Stream<String>> response = http.send(HttpRequest.newBuilder(URI.create(hubUrl + "/ping-task"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        List<JsonNode> events = new ArrayList<>();
        int replies = 0;
        for (Iterator<String> lines = response.body().iterator(); lines.hasNext(); ) {
            String line = lines.next().strip();
            if (line.isEmpty()) {
                continue;
            }
            JsonNode event = JSON.readTree(line);
            events.add(event);
            if (event.get("type").asText().equals("pkt_recv") && ++replies == stopAfter) {
                agent[0].destroy();
            }
            if (event.get("type").asText().equals("end")) {
                break;
            }
        }
        return events;
    }

    private static double value(String exposition, String metric) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(metric + " ")) {
                return Double.parseDouble(line.substring(metric.length() + 1));
            }
        }
        throw new AssertionError("no " + metric + " in\n" + exposition);
    }
}
