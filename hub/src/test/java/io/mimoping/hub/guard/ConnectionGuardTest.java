package io.mimoping.hub.guard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.observe.Metrics;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.observe.HubObservation;
import io.mimoping.hub.stream.StreamLimits;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.ws.AgentRegistry;
import io.mimoping.hub.ws.WsClient;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.RunTaskRequest;
import io.mimoping.proto.v1.TaskEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guard on a real hub listener (wired by {@link Main#setup}, as {@code main} wires it), from real sockets:
 * what is closed and when, what is never closed, and who is refused.
 */
class ConnectionGuardTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How late after its timeout the guard may close a connection here (its sweep, a loaded machine). */
    private static final long LATE_MS = 4_000;
    /** A close may be seen this much before the timeout counted from when the test opened the socket. */
    private static final long EARLY_MS = 50;

    private static IcmpEngine engine;

    @BeforeAll
    static void openEngine() {
        engine = IcmpEngine.open();
    }

    @AfterAll
    static void closeEngine() {
        engine.close();
    }

    /** A hub in embedded mode with these connection limits, its metrics and health, on 127.0.0.1. */
    private static final class Hub implements AutoCloseable {

        final Metrics metrics = new Metrics();
        final AgentRegistry agents;
        final WebServer server;

        Hub(ConnectionLimits limits, Duration heartbeat) {
            agents = new AgentRegistry("hub-guard-test", heartbeat, heartbeat.multipliedBy(3), null);
            HubObservation observation = new HubObservation(metrics, engine, agents, null, null);
            ConnectionGuard guard = new ConnectionGuard(limits);
            guard.register(metrics, observation.clients()::slowReadersCut);
            WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(0);
            Main.setup(builder, new HubSetup(engine, agents, AgentDirectory.NONE, StreamLimits.DEFAULTS,
                    observation.clients(), guard), observation::routing);
            server = builder.build().start();
        }

        int port() {
            return server.port();
        }

        /** A series' value now, such as {@code mimoping_connections_closed_total{reason="idle_timeout"}}. */
        long metric(String series) {
            String scrape = metrics.scrape();
            Matcher value = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
            assertTrue(value.find(), series + " in:\n" + scrape);
            return (long) Double.parseDouble(value.group(1));
        }

        @Override
        public void close() {
            server.stop();
            agents.close();
        }
    }

    private static String closed(String reason) {
        return "mimoping_connections_closed_total{reason=\"" + reason + "\"}";
    }

    private static String refused(String reason) {
        return "mimoping_connections_refused_total{reason=\"" + reason + "\"}";
    }

    @Test
    void connectionsLateWithTheirHeaderTheirBodyOrTheirNextRequestAreClosedAndCounted() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(100, 0, Duration.ofMillis(1000), Duration.ofMillis(1500),
                Duration.ofMillis(1000));
        try (Hub hub = new Hub(limits, Duration.ofSeconds(5)); RawClients raw = new RawClients("127.0.0.1", hub.port())) {
            long opened = System.nanoTime();
            Socket silent = raw.open("127.0.0.1", "");
            Socket halfSent = raw.open("127.0.0.1", "GET /health/live HTTP/1.1\r\nHost: hub\r\n");
            Socket lateBody = raw.open("127.0.0.1", "POST /ping-task HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"targets\":");
            Socket keptAlive = raw.open("127.0.0.1", "GET /health/live HTTP/1.1\r\nHost: hub\r\n\r\n");
            Socket slowloris = raw.open("127.0.0.1", "GET /health/live HTTP/1.1\r\nHost: hub\r\n");
            Thread dribble = Thread.ofVirtual().start(() -> {
                try {
                    // a header line a byte at a time, never finished: each byte comes well within any read timeout
                    RawClients.send(slowloris, "X-Slow: ");
                    while (true) {
                        Thread.sleep(100);
                        RawClients.send(slowloris, "a");
                    }
                } catch (Exception e) {
                    // closed by the hub
                }
            });
            CompletableFuture<RawClients.Closed> silentClosed = RawClients.watch(silent, WAIT);
            CompletableFuture<RawClients.Closed> halfSentClosed = RawClients.watch(halfSent, WAIT);
            CompletableFuture<RawClients.Closed> lateBodyClosed = RawClients.watch(lateBody, WAIT);
            CompletableFuture<RawClients.Closed> keptAliveClosed = RawClients.watch(keptAlive, WAIT);
            CompletableFuture<RawClients.Closed> slowlorisClosed = RawClients.watch(slowloris, WAIT);

            for (var header : List.of(silentClosed, halfSentClosed, slowlorisClosed)) {
                RawClients.Closed close = header.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertTrue(close.afterMs(opened) >= 1000 - EARLY_MS && close.afterMs(opened) < 1000 + LATE_MS,
                        "closed " + close.afterMs(opened) + " ms after it was opened (header timeout 1000 ms)");
                assertEquals("", close.received(), "closed without an answer");
            }
            dribble.join(WAIT);
            RawClients.Closed body = lateBodyClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(body.afterMs(opened) >= 1000 - EARLY_MS && body.afterMs(opened) < 1000 + LATE_MS,
                    "closed " + body.afterMs(opened) + " ms after its header (body timeout 1000 ms)");
            assertEquals("", body.received());
            RawClients.Closed idle = keptAliveClosed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(idle.received().startsWith("HTTP/1.1 200 OK"), "answered first: " + idle.received());
            assertTrue(idle.afterMs(opened) >= 1500 - EARLY_MS && idle.afterMs(opened) < 1500 + LATE_MS,
                    "closed " + idle.afterMs(opened) + " ms after its request (idle timeout 1500 ms)");

            assertEquals(3, hub.metric(closed("header_timeout")));
            assertEquals(1, hub.metric(closed("body_timeout")));
            assertEquals(1, hub.metric(closed("idle_timeout")));
            assertEquals(0, hub.metric(closed("shed_idle")));
            assertEquals(0, hub.metric("mimoping_connections"));
            assertTrue(raw.get("127.0.0.1", "/health/live").startsWith("HTTP/1.1 200 OK"), "and the hub serves on");
        }
    }

    @Test
    void streamsAgentWebSocketsAndGrpcStreamsOutliveEveryTimeout() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(100, 0, Duration.ofMillis(1000), Duration.ofMillis(1000),
                Duration.ofMillis(1000));
        // each stream lasts ~4 s: four times every timeout
        String task = "{\"targets\":[\"127.0.0.1\"],\"count\":10,\"interval\":400}";
        // a heartbeat timeout longer than the streams: the agent's connection is what is watched, not its timing
        try (Hub hub = new Hub(limits, Duration.ofSeconds(2));
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            String base = "http://127.0.0.1:" + hub.port();
            ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + hub.port(), InsecureChannelCredentials.create())
                    .build();
            WsClient agent = new WsClient(URI.create("ws://127.0.0.1:" + hub.port() + "/ws"));
            assertEquals("registered", agent.register("guard-agent", null).get("type").asText());
            agent.heartbeatEvery(Duration.ofMillis(500));
            try {
                CompletableFuture<List<String>> ndjson = CompletableFuture.supplyAsync(() -> types(send(http,
                        HttpRequest.newBuilder(URI.create(base + "/ping-task")).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(task)).build())), threads);
                String id = JSON.readTree(send(http, HttpRequest.newBuilder(URI.create(base + "/tasks"))
                        .POST(HttpRequest.BodyPublishers.ofString(task)).build()).getLast()).get("id").asText();
                CompletableFuture<List<String>> sse = CompletableFuture.supplyAsync(() -> types(send(http,
                        HttpRequest.newBuilder(URI.create(base + "/tasks/" + id + "/events"))
                                .header("Accept", "text/event-stream").build()).stream()
                        .filter(line -> line.startsWith("data: ")).map(line -> line.substring(6)).toList()), threads);
                CompletableFuture<List<String>> grpc = CompletableFuture.supplyAsync(() -> {
                    List<String> types = new ArrayList<>();
                    HubGrpc.newBlockingStub(channel).runTask(RunTaskRequest.newBuilder().addTargets("127.0.0.1")
                            .setCount(10).setInterval(400).build()).forEachRemaining((TaskEvent e) -> types.add(e.getType()));
                    return types;
                }, threads);
                for (var stream : List.of(ndjson, sse, grpc)) {
                    List<String> types = stream.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                    assertEquals("end", types.getLast(), "the stream ran to its end: " + types);
                    assertEquals(10, types.stream().filter("pkt_recv"::equals).count(), types.toString());
                }
                assertFalse(agent.isClosed(), "the agent's WebSocket is still open");
                assertEquals(1, hub.agents.list().size(), "and the agent still registered");
            } finally {
                agent.close();
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            assertEquals(0, hub.metric(closed("header_timeout")));
            assertEquals(0, hub.metric(closed("body_timeout")));
        }
    }

    @Test
    void eachAddressHasItsCapAndIdleKeepAlivesMakeRoomAtTheListenersCap() throws Exception {
        ConnectionLimits limits = new ConnectionLimits(8, 4, Duration.ofSeconds(60), Duration.ofSeconds(60),
                Duration.ofSeconds(60));
        String held = "GET /health/live HTTP/1.1\r\n"; // a request line, and then nothing
        String whole = "GET /health/ready HTTP/1.1\r\nHost: hub\r\n\r\n";
        try (Hub hub = new Hub(limits, Duration.ofSeconds(5)); RawClients raw = new RawClients("127.0.0.1", hub.port())) {
            for (int i = 0; i < 4; i++) {
                raw.open("127.0.0.1", held);
            }
            RawClients.Closed refused = RawClients.watch(raw.open("127.0.0.1", whole), WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals("", refused.received(), "127.0.0.1 holds its 4: a fifth is refused, unanswered");
            assertTrue(raw.get("127.0.0.2", "/health/ready").startsWith("HTTP/1.1 200 OK"), "127.0.0.2 is served");
            assertEquals(1, hub.metric(refused("client_full")));
            // that request's connection is gone once the server has seen its client close it: then the listener
            // holds 127.0.0.1's four alone (else it would be the oldest idle keep-alive below)
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (hub.metric("mimoping_connections") != 4 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(4, hub.metric("mimoping_connections"));

            Socket keptAlive = raw.open("127.0.0.2", "GET /health/live HTTP/1.1\r\nHost: hub\r\n\r\n");
            assertTrue(RawClients.response(keptAlive).startsWith("HTTP/1.1 200 OK"));
            for (int i = 0; i < 3; i++) {
                raw.open("127.0.0.3", held);
            }
            // the listener holds 8: the idle keep-alive makes room for a newcomer, the next one is refused
            raw.open("127.0.0.4", held);
            RawClients.Closed shed = RawClients.watch(keptAlive, WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals("", shed.received());
            RawClients.Closed full = RawClients.watch(raw.open("127.0.0.5", whole), WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals("", full.received(), "the listener is full: refused, unanswered");

            assertEquals(1, hub.metric(refused("client_full")));
            assertEquals(1, hub.metric(refused("listener_full")));
            assertEquals(1, hub.metric(closed("shed_idle")));
            assertEquals(8, hub.metric("mimoping_connections"));
            assertEquals(8, hub.metric("mimoping_connections_limit{scope=\"listener\"}"));
            assertEquals(4, hub.metric("mimoping_connections_limit{scope=\"client\"}"));
        }
    }

    /** The body's lines of a request on {@code http}. */
    private static List<String> send(HttpClient http, HttpRequest request) {
        try {
            HttpResponse<java.util.stream.Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
            assertTrue(response.statusCode() / 100 == 2, request + ": " + response.statusCode());
            return response.body().filter(line -> !line.isBlank()).toList();
        } catch (Exception e) {
            throw new AssertionError(request + " failed", e);
        }
    }

    private static List<String> types(List<String> lines) {
        return lines.stream().map(line -> {
            try {
                return JSON.readTree(line).get("type").asText();
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + line, e);
            }
        }).toList();
    }
}
