package io.mimoping.hub.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.hub.dispatch.TestHub;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The control channel and the hub's gRPC service as grpcurl users meet them: a real hub (distributed mode,
 * real RabbitMQ) and a real agent, reached over server reflection with JSON bodies; the streaming task
 * method against {@code POST /ping-task}, and its cancel.
 */
class HubGrpcTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration HEARTBEAT = Duration.ofMillis(1000);
    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();
    private final HttpClient http = HttpClient.newHttpClient();

    static String agentName(String prefix) {
        return prefix + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** GET /conns, and the entry of one agent in it once its capabilities are known (or known to be missing). */
    static JsonNode conns(HttpClient http, TestHub hub, String agent) throws Exception {
        JsonNode[] entry = new JsonNode[1];
        await("agent " + agent + " in /conns with its capabilities", Duration.ofSeconds(20), () -> {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://" + hub.addr() + "/conns")).build(), HttpResponse.BodyHandlers.ofString());
                for (JsonNode node : JSON.readTree(response.body())) {
                    if (node.get("name").asText().equals(agent) && (!node.get("capabilities").isNull()
                            || !node.path("capabilities_error").asText().startsWith("asking"))) {
                        entry[0] = node;
                        return true;
                    }
                }
                return false;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        return entry[0];
    }

    @Test
    void grpcurlListsDescribesAndCallsTheAgentsControlChannel() throws Exception {
        String name = agentName("ctl");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, "127.0.0.1", 0);
             AgentMain agent = AgentMain.start("--node-name", name, "--addr", hub.addr(), "--control-addr", "127.0.0.1:0", "--rabbitmq-broker-url",
                     TestHub.BROKER_URL, "--label", "site=lab", "--label", "rack=r7")) {
            String address = agent.controlAddress();
            assertTrue(address.matches("127\\.0\\.0\\.1:\\d+"), "loopback and the port the kernel chose: " + address);
            for (Grpcurl.Reflection reflection : Grpcurl.Reflection.values()) {
                try (Grpcurl grpcurl = new Grpcurl(address, reflection)) {
                    List<String> services = grpcurl.list();
                    assertTrue(services.contains("mimoping.v1.AgentControl"), reflection + ": " + services);
                    assertTrue(services.contains("grpc.health.v1.Health"), reflection + ": " + services);
                    assertEquals(List.of("GetCapabilities"), grpcurl.describe("mimoping.v1.AgentControl").getMethods()
                            .stream().map(m -> m.getName()).toList());

                    JsonNode capabilities = JSON.readTree(grpcurl.call("mimoping.v1.AgentControl/GetCapabilities", "{}"));
                    assertEquals(name, capabilities.get("agent").asText());
                    assertEquals(Map.of("site", "lab", "rack", "r7"), JSON.convertValue(capabilities.get("labels"), Map.class));
                    assertFalse(capabilities.get("version").asText().isEmpty());
                    assertTrue(capabilities.get("kernel").asText().startsWith("Linux "), capabilities.toString());
                    assertFalse(capabilities.get("host_name").asText().isEmpty());
                    assertTrue(capabilities.get("uptime").asText().endsWith("s"), capabilities.toString());
                    // this test runs as root: raw sockets open, and the engine uses them, with kernel timestamps
                    for (String family : List.of("ipv4", "ipv6")) {
                        JsonNode icmp = capabilities.get(family);
                        assertTrue(icmp.get("raw").get("available").asBoolean(), family + ": " + icmp);
                        assertEquals("SOCKET_KIND_RAW", icmp.get("engine_socket").asText(), family + ": " + icmp);
                        assertTrue(icmp.get("timestamping").get("kernel_receive").asBoolean(), family + ": " + icmp);
                    }
                    assertTrue(capabilities.get("limits").get("max_rate").asLong() > 0, capabilities.toString());
                    assertTrue(capabilities.get("limits").get("max_targets").asLong() > 0, capabilities.toString());

                    JsonNode health = JSON.readTree(grpcurl.call("grpc.health.v1.Health/Check",
                            "{\"service\":\"mimoping.v1.AgentControl\"}"));
                    assertEquals("SERVING", health.get("status").asText());
                }
            }
        }
    }

    @Test
    void theHubServesItsOwnServiceAndAsksAgentsOverTheirControlChannel() throws Exception {
        String name = agentName("bridge");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, "127.0.0.1", 0);
             AgentMain agent = AgentMain.start("--node-name", name, "--addr", hub.addr(), "--control-addr", "127.0.0.1:0", "--rabbitmq-broker-url",
                     TestHub.BROKER_URL, "--label", "site=lab");
             Grpcurl grpcurl = new Grpcurl(hub.addr(), Grpcurl.Reflection.V1)) {
            JsonNode conn = conns(http, hub, name);
            assertEquals(agent.controlAddress(), conn.get("control_addr").asText());
            assertEquals("raw", conn.get("capabilities").get("ipv4").get("engine_socket").asText(), conn.toString());
            assertEquals("raw", conn.get("capabilities").get("ipv6").get("engine_socket").asText(), conn.toString());
            assertEquals("lab", conn.get("capabilities").get("labels").get("site").asText(), conn.toString());

            assertTrue(grpcurl.list().contains("mimoping.v1.Hub"));
            try (Grpcurl v1alpha = new Grpcurl(hub.addr(), Grpcurl.Reflection.V1ALPHA)) {
                assertTrue(v1alpha.list().contains("mimoping.v1.Hub"), "grpcurl's fallback, reflection v1alpha");
                assertEquals("RunTask", v1alpha.describe("mimoping.v1.Hub").findMethodByName("RunTask").getName());
            }
            assertEquals(List.of("ListAgents", "GetAgentCapabilities", "RunTask"),
                    grpcurl.describe("mimoping.v1.Hub").getMethods().stream().map(m -> m.getName()).toList());

            JsonNode agents = JSON.readTree(grpcurl.call("mimoping.v1.Hub/ListAgents", "{}")).get("agents");
            assertEquals(1, agents.size(), agents.toString());
            assertEquals(name, agents.get(0).get("name").asText());
            assertEquals(agent.controlAddress(), agents.get(0).get("control_addr").asText());
            assertEquals("SOCKET_KIND_RAW", agents.get(0).get("capabilities").get("ipv4").get("engine_socket").asText());

            JsonNode asked = JSON.readTree(grpcurl.call("mimoping.v1.Hub/GetAgentCapabilities", "{\"name\":\"" + name + "\"}"));
            assertEquals(name, asked.get("agent").asText());
            assertTrue(java.time.Instant.parse(asked.get("detected_at").asText())
                            .isAfter(java.time.Instant.parse(conn.get("capabilities").get("detected_at").asText())),
                    "asked again, not served from what the hub remembered");

            StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                    () -> grpcurl.call("mimoping.v1.Hub/GetAgentCapabilities", "{\"name\":\"nobody-" + name + "\"}"));
            assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
            assertTrue(unknown.getStatus().getDescription().contains("nobody-" + name), unknown.getMessage());
        }
    }

    @Test
    void runTaskStreamsWhatPingTaskStreams() throws Exception {
        String name = agentName("stream");
        String body = "{\"from\":[\"" + name + "\",\"hub\"],\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":3,\"interval\":50}";
        try (TestHub hub = new TestHub(engine, HEARTBEAT, "127.0.0.1", 0);
             AgentMain agent = AgentMain.start("--node-name", name, "--addr", hub.addr(), "--control-addr", "127.0.0.1:0", "--rabbitmq-broker-url",
                     TestHub.BROKER_URL);
             Grpcurl grpcurl = new Grpcurl(hub.addr(), Grpcurl.Reflection.V1)) {
            conns(http, hub, name);
            List<JsonNode> events = new ArrayList<>();
            try (Context.CancellableContext context = Context.current().withCancellation()) {
                grpcurl.stream("mimoping.v1.Hub/RunTask", body, context).forEachRemaining(line -> events.add(read(line)));
            }
            HttpResponse<String> rest = http.send(HttpRequest.newBuilder(URI.create("http://" + hub.addr() + "/ping-task"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            List<JsonNode> lines = rest.body().lines().filter(l -> !l.isBlank()).map(HubGrpcTest::read).toList();

            assertEquals("task", events.getFirst().get("type").asText());
            assertEquals("end", events.getLast().get("type").asText());
            assertEquals(types(lines), types(events), "the same events, per type and pinging side");
            for (int i = 0; i < events.size(); i++) {
                // proto3 JSON leaves out zero values: cursor 0 is absent
            assertEquals(i, events.get(i).path("cursor").asInt(0), "cursor of event " + i);
            }
            JsonNode end = events.getLast().get("end");
            assertEquals(12, end.get("sent").asInt(), end.toString());
            assertEquals(12, end.get("received").asInt(), end.toString());
            JsonNode reply = events.stream().filter(e -> e.get("type").asText().equals("pkt_recv")
                    && e.get("from").asText().equals(name)).findFirst().orElseThrow().get("reply");
            assertTrue(reply.get("ip_addr").asText().equals("127.0.0.1") || reply.get("ip_addr").asText().equals("::1"));
            assertTrue(Long.parseLong(reply.get("rtt_ns").asText()) > 0, reply.toString());

            StatusRuntimeException bad = assertThrows(StatusRuntimeException.class, () -> {
                try (Context.CancellableContext context = Context.current().withCancellation()) {
                    grpcurl.stream("mimoping.v1.Hub/RunTask", "{\"targets\":[\"127.0.0.1\"],\"count\":0}", context).hasNext();
                }
            });
            assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
            assertTrue(bad.getStatus().getDescription().contains("'count' must be between 1 and 100000, got 0"),
                    bad.getStatus().getDescription());
        }
    }

    @Test
    void cancellingTheCallStopsTheProbesEverywhere() throws Exception {
        String name = agentName("cancel");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, "127.0.0.1", 0);
             AgentMain agent = AgentMain.start("--node-name", name, "--addr", hub.addr(), "--control-addr", "127.0.0.1:0", "--rabbitmq-broker-url",
                     TestHub.BROKER_URL);
             Grpcurl grpcurl = new Grpcurl(hub.addr(), Grpcurl.Reflection.V1)) {
            conns(http, hub, name);
            long sentBefore = engine.stats().sent();
            int received = 0;
            Context.CancellableContext context = Context.current().withCancellation();
            Iterator<String> events = grpcurl.stream("mimoping.v1.Hub/RunTask", "{\"from\":[\"" + name
                    + "\",\"hub\"],\"targets\":[\"127.0.0.1\"],\"count\":100000,\"interval\":20}", context);
            while (received < 20 && events.hasNext()) {
                if (read(events.next()).get("type").asText().equals("pkt_recv")) {
                    received++;
                }
            }
            assertEquals(20, received);
            assertEquals(1, agent.runningTasks(), "the agent runs the task");
            context.cancel(null);

            await("the agent to stop the task", Duration.ofSeconds(5), () -> agent.runningTasks() == 0);
            Thread.sleep(1_500); // the hub notices within its 1 s keep-alive
            long stopped = engine.stats().sent();
            Thread.sleep(500);
            assertEquals(stopped, engine.stats().sent(), "the hub's engine sends no more probes (interval 20 ms)");
            assertTrue(stopped - sentBefore < 1_000, "the task stopped long before its 100,000 probes: "
                    + (stopped - sentBefore));
        }
    }

    /** Event types per pinging side, counted: two runs of one task send the same. */
    private static Map<String, Integer> types(List<JsonNode> events) {
        Map<String, Integer> counts = new TreeMap<>();
        for (JsonNode e : events) {
            String from = e.has("metadata") ? e.get("metadata").get("from").asText() : e.get("from").asText();
            counts.merge(from + "/" + e.get("type").asText(), 1, Integer::sum);
        }
        return counts;
    }

    private static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(json, e);
        }
    }
}
