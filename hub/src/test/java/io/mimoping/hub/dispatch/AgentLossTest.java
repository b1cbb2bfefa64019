package io.mimoping.hub.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.bridge.amqp.Topology;
import io.mimoping.hub.ChildJvm;
import io.mimoping.hub.grpc.TcpRelay;
import io.mimoping.hub.ws.Agent;
import io.mimoping.hub.ws.AgentEndpoint;
import io.mimoping.hub.ws.AgentRegistry;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An agent process killed with SIGKILL mid-task, against a hub with its default heartbeat (an agent silent for 15 s
 * is forgotten): its connection ends at once, so its task stream hears {@code agent_lost} within 2 s, and the agent
 * started again registers within 2 s, never refused as a duplicate of its dead self. An agent whose WebSocket alone
 * is cut (its process and its RabbitMQ connection live) goes on with its tasks.
 */
class AgentLossTest {

    /** The hub's default: heartbeats every 5 s, a silent agent forgotten after 15 s. */
    private static final Duration HEARTBEAT = Duration.ofSeconds(5);
    /** The goal for both figures. */
    private static final long GOAL_MS = 2000;
    /** How long starting an agent's JVM may take on a loaded machine; not what is measured. */
    private static final Duration START = Duration.ofSeconds(60);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();
    @AutoClose
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aKilledAgentIsLostWithinTwoSecondsAndRegistersAgainWithinTwoSecondsOfRestarting() throws Exception {
        String name = "sigkill-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0)) {
            try (ChildJvm agent = hub.agentProcess(name)) {
                Iterator<String> lines = task(hub, name, 600);
                for (int replies = 0; replies < 3; ) {
                    JsonNode event = next(lines);
                    assertFalse(event.get("type").asText().equals("error"), event.toString());
                    if (event.get("type").asText().equals("pkt_recv")) {
                        replies++;
                    }
                }
                long killedAt = System.nanoTime();
                agent.kill();
                JsonNode lost = next(lines);
                while (!lost.get("type").asText().equals("error")) {
                    assertFalse(lost.get("type").asText().equals("end"), "the stream ended without agent_lost");
                    lost = next(lines);
                }
                long lostMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                JsonNode data = lost.get("data");
                assertEquals("agent_lost", data.get("code").asText(), lost.toString());
                assertEquals(name, data.get("agent").asText(), lost.toString());
                assertEquals("127.0.0.1", data.get("target").asText(), lost.toString());
                assertTrue(data.get("message").asText().contains("its connection to the hub dropped"), lost.toString());
                assertEquals("end", next(lines).get("type").asText(), "the stream ends after agent_lost");
                assertTrue(hub.registry.find(name).isEmpty(), "the killed agent is forgotten");
                System.out.println("SIGKILL -> agent_lost: " + lostMs + " ms");
                assertTrue(lostMs < GOAL_MS, "agent_lost came " + lostMs + " ms after the SIGKILL; the goal is < "
                        + GOAL_MS + " ms (the hub's timeout is " + HEARTBEAT.multipliedBy(3).toMillis() + " ms)");
            }

            Instant restarted = Instant.now();
            try (ChildJvm again = hub.agentProcess(name)) {
                // printed just after its hub link started (the JVM's own start is not what is measured)
                ChildJvm.Line linking = again.awaitLine("registering with", START);
                DistributedModeTest.await("the restarted agent listed in GET /conns", START, () -> listedSince(hub, name, restarted));
                long registeredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - linking.atNanos());
                System.out.println("restart -> registered: " + registeredMs + " ms after its hub link started, "
                        + Duration.between(restarted, Instant.now()).toMillis() + " ms after its process started");
                assertFalse(again.output().contains("(" + AgentEndpoint.DUPLICATE_NAME),
                        "refused as a duplicate of its dead self: " + again.output());
                assertTrue(registeredMs < GOAL_MS, "registered " + registeredMs + " ms after its hub link started;"
                        + " the goal is < " + GOAL_MS + " ms");
            }
        }
    }

    @Test
    void anAgentWhoseHubConnectionAloneIsCutGoesOnWithItsTasks() throws Exception {
        String name = "cut-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0);
             TcpRelay path = new TcpRelay(loopback, new InetSocketAddress(loopback, hub.server.port()));
             AgentMain agent = AgentMain.start("--node-name", name, "--addr", "127.0.0.1:" + path.port(),
                     "--rabbitmq-broker-url", TestHub.BROKER_URL, "--control-addr", "127.0.0.1:0")) {
            List<String> dropped = new CopyOnWriteArrayList<>();
            hub.registry.addListener(new AgentRegistry.Listener() {
                @Override
                public void onLeft(Agent left, String reason) {
                }

                @Override
                public void onDropped(Agent left, String reason) {
                    dropped.add(left.name());
                }
            });
            Iterator<String> lines = task(hub, name, 20);
            JsonNode event = next(lines);
            for (int replies = 0; replies < 3; event = next(lines)) {
                if (event.get("type").asText().equals("pkt_recv")) {
                    replies++;
                }
            }
            path.cut(); // the agent's WebSocket to the hub ends; its RabbitMQ connection does not pass there
            while (!event.get("type").asText().equals("end")) {
                assertFalse(event.get("type").asText().equals("error"), "the agent's task goes on: " + event);
                event = next(lines);
            }
            assertEquals(20, event.get("data").get("received").asInt(), event.toString());
            assertEquals(List.of(name), dropped, "the hub saw the connection drop");
            DistributedModeTest.await("the agent registered again", START, () -> hub.registry.find(name).isPresent());
        }
    }

    /**
     * Once the agent is registered and takes tasks, streams a task of {@code count} probes to 127.0.0.1 from it,
     * 100 ms apart.
     */
    private Iterator<String> task(TestHub hub, String name, int count) throws Exception {
        DistributedModeTest.await("agent " + name + " registered and taking tasks", START,
                () -> hub.registry.find(name).isPresent() && RabbitMq.consumers(Topology.agentQueue(name)) > 0);
        HttpResponse<Stream<String>> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://" + hub.addr() + "/ping-task"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],"
                        + "\"count\":" + count + ",\"interval\":100}")).build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        return response.body().iterator();
    }

    /** Whether {@code GET /conns} lists the agent with a connection made since {@code since}. */
    private boolean listedSince(TestHub hub, String name, Instant since) {
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://" + hub.addr() + "/conns")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (JsonNode conn : JSON.readTree(body)) {
                if (conn.get("name").asText().equals(name)
                        && !Instant.parse(conn.get("connected_since").asText()).isBefore(since)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new AssertionError("GET /conns failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next event of the stream (keep-alive spaces skipped); fails if the stream ends. */
    private static JsonNode next(Iterator<String> lines) throws Exception {
        while (lines.hasNext()) {
            String line = lines.next().strip();
            if (line.startsWith("{")) {
                return JSON.readTree(line);
            }
        }
        throw new AssertionError("the task stream ended early");
    }
}
