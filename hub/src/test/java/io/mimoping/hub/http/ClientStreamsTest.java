package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.observe.Metrics;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.observe.ClientStreams.Transport;
import io.mimoping.hub.observe.HubObservation;
import io.mimoping.hub.observe.Promtool;
import io.mimoping.hub.stream.StreamLimits;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.ws.AgentRegistry;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.RunTaskRequest;
import io.mimoping.proto.v1.TaskEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mimoping_client_streams{transport=…}} and {@code _total} on a hub wired as {@code main} wires it:
 * one real client of each transport open at once counts one each; requests that only ask about a task, or
 * are refused, count nothing; every gauge drops back to 0 once its client is gone; promtool accepts it all.
 */
@ServerTest
@Timeout(120)
class ClientStreamsTest {

    /** Sixty probes, one every 100 ms: streams that stay open while the test looks. */
    private static final String BUSY = "{\"targets\":[\"127.0.0.1\"],\"count\":600,\"interval\":100}";
    /** One probe now, the next in an hour: a long-poll after the first reply waits. */
    private static final String QUIET = "{\"targets\":[\"127.0.0.1\"],\"count\":2,\"interval\":3600000}";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private static final Metrics METRICS = new Metrics();
    private static IcmpEngine engine;
    private static AgentRegistry agents;

    private final WebServer server;
    private final StreamClients clients;

    ClientStreamsTest(WebServer server) {
        this.server = server;
        this.clients = new StreamClients(server.port());
    }

    @SetUpServer
    static void server(WebServerConfig.Builder builder) {
        engine = IcmpEngine.open();
        agents = new AgentRegistry("hub-test", Duration.ofSeconds(5), Duration.ofSeconds(15), null);
        HubObservation observation = new HubObservation(METRICS, engine, agents, null, null);
        Main.setup(builder, new HubSetup(engine, agents, AgentDirectory.NONE, StreamLimits.DEFAULTS,
                observation.clients()), observation::routing);
    }

    @AfterAll
    static void close() {
        agents.close();
        engine.close();
    }

    @Test
    void eachTransportCountsItsOpenStreamsAndNothingElse() throws Exception {
        String busy = clients.start(BUSY);
        String quiet = clients.start(QUIET);
        // requests that are no stream: a task's description, a cancel, refusals
        assertEquals(200, clients.send("GET", "/tasks/" + busy, null).statusCode());
        String cancelled = clients.start(BUSY);
        assertEquals(200, clients.send("DELETE", "/tasks/" + cancelled, null).statusCode());
        assertEquals(400, clients.send("POST", "/ping-task", "{\"targets\":[]}", "Content-Type", "application/json").statusCode());
        assertEquals(404, clients.send("GET", "/tasks/nosuch/events?wait=1s", null).statusCode());
        assertEquals(400, clients.send("GET", "/tasks/" + busy + "/events?cursor=99999999", null).statusCode());
        assertEquals(Map.of(), nonZero(scrape(), "mimoping_client_streams_total"));

        Stream<String> sse = clients.sseLines(busy, null);
        StreamClients.readSse(sse.iterator(), new ArrayList<>(), 1);
        StreamClients.Ws ws = clients.ws(busy, "", true);
        InputStream ndjson = clients.http().send(HttpRequest.newBuilder(clients.uri("/ping-task"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BUSY)).build(),
                HttpResponse.BodyHandlers.ofInputStream()).body();
        new BufferedReader(new InputStreamReader(ndjson, StandardCharsets.UTF_8)).readLine();
        ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + server.port(), InsecureChannelCredentials.create())
                .build();
        Context.CancellableContext grpcCall = Context.current().withCancellation();
        Iterator<TaskEvent> grpc = grpcCall.call(() -> HubGrpc.newBlockingStub(channel).runTask(
                RunTaskRequest.newBuilder().addTargets("127.0.0.1").setCount(600).setInterval(100).build()));
        grpc.next();
        long after = quietCursor(quiet);
        CompletableFuture<HttpResponse<String>> longPoll = clients.http().sendAsync(HttpRequest.newBuilder(
                clients.uri("/tasks/" + quiet + "/events?cursor=" + after + "&wait=60s")).build(),
                HttpResponse.BodyHandlers.ofString());

        Map<String, Double> everyOne = everyTransport(1);
        String open = awaitSeries("mimoping_client_streams", everyOne);
        assertEquals(everyOne, series(open, "mimoping_client_streams_total"));
        assertEquals("", Promtool.check(open));

        sse.close();
        ws.socket.abort();
        ndjson.close();
        grpcCall.cancel(null);
        assertEquals(200, clients.send("DELETE", "/tasks/" + quiet, null).statusCode());
        // the cancel wakes the long-poll with what came next: the target's statistics until the cancel
        JsonNode woken = StreamClients.json(longPoll.get(WAIT.toSeconds(), TimeUnit.SECONDS).body());
        assertEquals("ping_stats", StreamClients.type(woken.get("events").get(0)), woken.toString());
        String closed = awaitSeries("mimoping_client_streams", everyTransport(0));
        assertEquals(everyOne, series(closed, "mimoping_client_streams_total"), "opened streams stay counted");
        channel.shutdownNow();
        clients.close();
    }

    /** The cursor after the quiet task's first probe and its reply: nothing more comes for an hour. */
    private long quietCursor(String task) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode page = StreamClients.json(clients.send("GET", "/tasks/" + task + "/events", null).body());
            for (JsonNode event : page.get("events")) {
                if (StreamClients.type(event).equals("pkt_recv")) {
                    return page.get("cursor").asLong();
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no reply from 127.0.0.1 in task " + task);
    }

    private static Map<String, Double> everyTransport(double value) {
        Map<String, Double> series = new TreeMap<>();
        for (Transport transport : Transport.values()) {
            series.put(transport.label(), value);
        }
        return series;
    }

    /** Scrapes until {@code metric}'s series are {@code expected}; that scrape. */
    private String awaitSeries(String metric, Map<String, Double> expected) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String exposition = scrape();
        while (!series(exposition, metric).equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            exposition = scrape();
        }
        assertEquals(expected, series(exposition, metric), exposition);
        return exposition;
    }

    private String scrape() {
        HttpResponse<String> response = clients.send("GET", "/metrics", null);
        assertEquals(200, response.statusCode());
        return response.body();
    }

    /** {@code metric}'s value by its {@code transport} label. */
    private static Map<String, Double> series(String exposition, String metric) {
        Map<String, Double> series = new TreeMap<>();
        String prefix = metric + "{transport=\"";
        for (String line : exposition.split("\n")) {
            if (line.startsWith(prefix)) {
                int end = line.indexOf('"', prefix.length());
                series.put(line.substring(prefix.length(), end), Double.parseDouble(line.substring(line.indexOf("} ") + 2)));
            }
        }
        return series;
    }

    private static Map<String, Double> nonZero(String exposition, String metric) {
        Map<String, Double> series = series(exposition, metric);
        series.values().removeIf(value -> value == 0);
        return series;
    }
}
