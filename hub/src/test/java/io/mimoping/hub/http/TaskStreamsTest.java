package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.mimoping.hub.stream.StreamLimits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.mimoping.hub.http.StreamClients.cursor;
import static io.mimoping.hub.http.StreamClients.json;
import static io.mimoping.hub.http.StreamClients.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /tasks} and its three stream transports over real sockets, with the JDK's HTTP and WebSocket
 * clients, pinging loopback with the real engine. The hub keeps 5,000 events per task here, and cuts off a
 * client that takes nothing for 3 s.
 */
@ServerTest
@Timeout(120)
class TaskStreamsTest {

    static final int RETAINED = 5000;
    static final StreamLimits LIMITS =
            new StreamLimits(RETAINED, 4L << 20, Duration.ofMinutes(10), 100, 256L << 20, 1000, Duration.ofSeconds(3));

    private static final EmbeddedHub HUB = new EmbeddedHub();

    private final WebServer server;
    private StreamClients clients;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    TaskStreamsTest(WebServer server) {
        this.server = server;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder builder) {
        HUB.setup(builder, LIMITS);
        // a fixed send buffer (no autotuning up to 4 MiB): a client that stops reading holds up the hub's writes
        // after some 100 KiB instead of after the whole slow-client test task
        builder.connectionOptions(options -> options.socketSendBufferSize(64 * 1024));
    }

    @AfterAll
    static void close() {
        HUB.close();
    }

    @BeforeEach
    void open() {
        clients = new StreamClients(server.port());
    }

    @AfterEach
    void closeClients() {
        threads.shutdownNow();
        clients.close();
    }

    /** A whole task's events: cursors 0..n-1, {@code task} first, {@code end} last. */
    private static void assertWholeTask(List<JsonNode> events, String taskId) {
        assertFalse(events.isEmpty());
        assertEquals("task", type(events.getFirst()), "first event");
        assertEquals("end", type(events.getLast()), "last event");
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i, cursor(events.get(i)), "cursor of event " + i + ": " + events.get(i));
            assertEquals(taskId, events.get(i).get("metadata").get("task").asText());
        }
    }

    /** The same events in the same order; on a difference, says where (the lists are long). */
    private static void assertSameEvents(List<JsonNode> expected, List<JsonNode> actual, String what) {
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                throw new AssertionError(what + ": event " + i + " differs: expected " + brief(expected.get(i))
                        + ", got " + brief(actual.get(i)) + " (" + actual.size() + " events, expected " + expected.size() + ")");
            }
        }
        assertEquals(expected.size(), actual.size(), what + ": number of events");
    }

    private static String brief(JsonNode event) {
        String text = event.toString();
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    private static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(e -> type(e).equals(type)).toList();
    }

    private static List<JsonNode> data(List<StreamClients.Sse> events) {
        for (StreamClients.Sse sse : events) {
            assertEquals(cursor(sse.event()), sse.id(), "SSE id: is the event's cursor");
        }
        return events.stream().map(StreamClients.Sse::event).toList();
    }

    private JsonNode task(String id) {
        HttpResponse<String> response = clients.send("GET", "/tasks/" + id, null);
        assertEquals(200, response.statusCode(), response.body());
        return json(response.body());
    }

    private JsonNode awaitEnded(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode task = task(id);
            if (!task.get("state").asText().equals("running")) {
                return task;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("task " + id + " did not end: " + task(id));
    }

    @Test
    void startsATaskAndAnswers201WithLinks() {
        HttpResponse<String> response = clients.send("POST", "/tasks",
                "{\"targets\":[\"127.0.0.1\"],\"count\":1}", "Content-Type", "application/json");
        assertEquals(201, response.statusCode(), response.body());
        JsonNode body = json(response.body());
        String id = body.get("id").asText();
        assertTrue(id.matches("[0-9a-f]{16}"), id);
        assertEquals("/tasks/" + id, response.headers().firstValue("Location").orElseThrow());
        assertEquals("/tasks/" + id, body.get("links").get("self").asText());
        assertEquals("/tasks/" + id + "/events", body.get("links").get("events").asText());
        assertEquals("/tasks/" + id + "/ws", body.get("links").get("ws").asText());
        assertEquals(List.of("127.0.0.1"), List.of(body.get("request").get("targets").get(0).asText()));
        assertEquals(10_000, body.get("request").get("timeout").asInt(), "defaults filled in");
    }

    @Test
    void everyTransportCarriesTheWholeTaskToManyClientsAtOnce() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":5,\"interval\":100}");
        List<Future<List<JsonNode>>> sse = new ArrayList<>();
        List<Future<List<JsonNode>>> polls = new ArrayList<>();
        List<StreamClients.Ws> sockets = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sse.add(threads.submit(() -> data(clients.sse(id, null))));
            polls.add(threads.submit(() -> clients.longPoll(id, 0)));
            sockets.add(clients.ws(id, "", true));
        }
        List<JsonNode> reference = sse.getFirst().get(30, TimeUnit.SECONDS);
        assertWholeTask(reference, id);
        assertEquals(10, ofType(reference, "pkt_recv").size(), "5 replies from each of 2 targets: " + reference);
        assertEquals(2, ofType(reference, "ping_stats").size());
        for (Future<List<JsonNode>> client : sse) {
            assertSameEvents(reference, client.get(30, TimeUnit.SECONDS), "every SSE client gets the same events");
        }
        for (Future<List<JsonNode>> client : polls) {
            assertSameEvents(reference, client.get(30, TimeUnit.SECONDS), "every long-poll client gets the same events");
        }
        for (StreamClients.Ws socket : sockets) {
            assertEquals("1000 task ended", socket.closed.get(30, TimeUnit.SECONDS));
            assertSameEvents(reference, socket.events, "every WebSocket client gets the same events");
        }
        JsonNode task = task(id);
        assertEquals("finished", task.get("state").asText());
        assertEquals(10, task.get("totals").get("received").asInt());
        assertEquals(reference.size(), task.get("events").get("next").asInt());
    }

    @Test
    void sseResumesAfterLastEventIdAndTellsAFinishedClientThereIsNoMore() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":5,\"interval\":50}");
        List<StreamClients.Sse> first = new ArrayList<>();
        try (Stream<String> lines = clients.sseLines(id, null)) {
            StreamClients.readSse(lines.iterator(), first, 4);
        }
        assertEquals(4, first.size());
        List<StreamClients.Sse> rest = clients.sse(id, String.valueOf(first.getLast().id()));
        List<JsonNode> resumed = new ArrayList<>(data(first));
        resumed.addAll(data(rest));
        assertWholeTask(resumed, id);
        assertSameEvents(data(clients.sse(id, null)), resumed, "nothing missed, nothing twice");

        HttpResponse<String> done = clients.send("GET", "/tasks/" + id + "/events", null,
                "Accept", "text/event-stream", "Last-Event-ID", String.valueOf(rest.getLast().id()));
        assertEquals(204, done.statusCode(), "an EventSource that has the end stops reconnecting on 204");
    }

    @Test
    void longPollAnswersWhatFollowsTheCursorAndWaitsForMore() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":4,\"interval\":400}");
        JsonNode page = json(clients.send("GET", "/tasks/" + id + "/events?cursor=0&wait=5s", null).body());
        long next = page.get("cursor").asLong();
        assertEquals(page.get("events").size(), next, "the next cursor follows the last event");
        assertFalse(page.get("ended").asBoolean());
        long asked = System.nanoTime();
        JsonNode waited = json(clients.send("GET", "/tasks/" + id + "/events?cursor=" + next + "&wait=25s", null).body());
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
        assertTrue(waited.get("events").size() >= 1, "the poll waits until an event comes: " + waited);
        assertTrue(tookMs < 2_000, "and answers as soon as one does, not after 'wait': " + tookMs + " ms");
        assertEquals(next, cursor(waited.get("events").get(0)));

        awaitEnded(id);
        JsonNode fromTwo = json(clients.send("GET", "/tasks/" + id + "/events?cursor=2", null).body());
        assertEquals(2, cursor(fromTwo.get("events").get(0)), "resumes at the cursor asked");
        assertTrue(fromTwo.get("ended").asBoolean());
        long end = fromTwo.get("cursor").asLong();
        asked = System.nanoTime();
        JsonNode after = json(clients.send("GET", "/tasks/" + id + "/events?cursor=" + end + "&wait=25s", null).body());
        assertEquals(0, after.get("events").size());
        assertTrue(after.get("ended").asBoolean(), "an ended task answers at once: nothing will come");
        assertTrue(System.nanoTime() - asked < TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void webSocketResumesFromCursor() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":3,\"interval\":10}");
        awaitEnded(id);
        List<JsonNode> all = clients.longPoll(id, 0);
        StreamClients.Ws ws = clients.ws(id, "?cursor=3", true);
        assertEquals("1000 task ended", ws.closed.get(10, TimeUnit.SECONDS));
        assertSameEvents(all.subList(3, all.size()), ws.events, "from cursor 3");
    }

    @Test
    void clientsAskingForEventsPastRetentionGetAGapEventFirst() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\",\"127.0.0.2\",\"127.0.0.3\",\"127.0.0.4\",\"127.0.0.5\"],"
                + "\"count\":1020,\"interval\":1}");
        JsonNode task = awaitEnded(id);
        long first = task.get("events").get("first").asLong();
        long next = task.get("events").get("next").asLong();
        assertEquals(RETAINED, next - first, "the hub keeps the newest " + RETAINED + " events");
        assertTrue(first > 0);

        List<JsonNode> polled = clients.longPoll(id, 0);
        List<JsonNode> streamed = data(clients.sse(id, null));
        StreamClients.Ws ws = clients.ws(id, "?cursor=0", true);
        ws.closed.get(10, TimeUnit.SECONDS);
        for (List<JsonNode> events : List.of(polled, streamed, ws.events)) {
            JsonNode gap = events.getFirst();
            assertEquals("gap", type(gap), "first event: " + gap);
            assertEquals(0, gap.get("data").get("from").asLong());
            assertEquals(first - 1, gap.get("data").get("to").asLong());
            assertEquals(first - 1, cursor(gap), "a gap carries its last cursor: resuming after it asks for the next");
            assertTrue(gap.get("data").get("message").asText().contains("no longer retained"));
            for (int i = 1; i < events.size(); i++) {
                assertEquals(first + i - 1, cursor(events.get(i)), "after the gap, every retained event in order");
            }
            assertEquals("end", type(events.getLast()));
        }
    }

    @Test
    void slowClientsDelayNeitherTheTaskNorOtherClients() throws Exception {
        // 20 targets x 600 probes every 10 ms: ~12,000 events (~3 MB) in ~6 s
        String id = clients.start("{\"targets\":["
                + String.join(",", IntStream.rangeClosed(1, 20).mapToObj(i -> "\"127.0.1." + i + "\"").toList())
                + "],\"count\":600,\"interval\":10}");
        long started = System.nanoTime();
        // fast clients of each transport
        Future<List<JsonNode>> fastSse = threads.submit(() -> data(clients.sse(id, null)));
        Future<List<JsonNode>> fastPoll = threads.submit(() -> clients.longPoll(id, 0));
        StreamClients.Ws fastWs = clients.ws(id, "", true);
        // stuck clients: an SSE client that does not read its body, a WebSocket client that takes one frame
        HttpResponse<InputStream> stuck = clients.http().send(HttpRequest.newBuilder(clients.uri("/tasks/" + id + "/events"))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stuck.statusCode());
        StreamClients.Ws stuckWs = clients.ws(id, "", false);

        List<JsonNode> reference = fastSse.get(60, TimeUnit.SECONDS);
        long fastDoneMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertWholeTask(reference, id);
        assertEquals(12_000, ofType(reference, "pkt_recv").size(), "the fast client got every reply");
        assertSameEvents(reference, fastPoll.get(60, TimeUnit.SECONDS), "fast long-poll client");
        assertEquals("1000 task ended", fastWs.closed.get(60, TimeUnit.SECONDS));
        assertSameEvents(reference, fastWs.events, "fast WebSocket client");
        long durationMs = reference.getLast().get("data").get("duration_ms").asLong();
        assertTrue(durationMs < 6_000 + 3_000, "the task ran at its own pace: " + durationMs + " ms");
        assertTrue(fastDoneMs < durationMs + 3_000, "fast clients were done with the task, not after the slow ones: "
                + fastDoneMs + " ms for a task of " + durationMs + " ms");
        assertEquals(1, stuckWs.events.size(), "the stuck WebSocket client has taken one frame");

        // the stuck WebSocket client was cut off after 3 s of taking nothing; it resumes from its cursor
        Thread.sleep(LIMITS.clientTimeout().multipliedBy(2).toMillis());
        stuckWs.socket.request(Long.MAX_VALUE);
        String closed = stuckWs.closed.get(10, TimeUnit.SECONDS);
        assertFalse(closed.startsWith("1000"), "not a normal end: " + closed);
        long resumeAt = cursor(stuckWs.events.getLast()) + 1;
        StreamClients.Ws resumed = clients.ws(id, "?cursor=" + resumeAt, true);
        resumed.closed.get(10, TimeUnit.SECONDS);
        assertEquals("gap", type(resumed.events.getFirst()), "it fell behind the retained events: told so");
        assertEquals(resumeAt, resumed.events.getFirst().get("data").get("from").asLong());
        assertEquals("end", type(resumed.events.getLast()));

        // the stuck SSE client was cut off too: it reads what its socket held, then resumes after its last event
        List<StreamClients.Sse> held = new ArrayList<>();
        try (InputStream in = stuck.body()) {
            Iterator<String> lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().iterator();
            StreamClients.readSse(lines, held, Integer.MAX_VALUE);
        } catch (UncheckedIOException e) {
            // the hub closed the connection while the client was not reading
        }
        assertFalse(held.isEmpty(), "it got what its socket held");
        assertFalse(type(held.getLast().event()).equals("end"), "but not the whole task: it was cut off");
        List<JsonNode> late = data(clients.sse(id, String.valueOf(held.getLast().id())));
        JsonNode gap = late.getFirst();
        assertEquals("gap", type(gap), "it fell behind the retained events: told so");
        assertEquals(held.getLast().id() + 1, gap.get("data").get("from").asLong());
        assertEquals(gap.get("data").get("to").asLong() + 1, cursor(late.get(1)));
        assertEquals(RETAINED, late.size() - 1, "then every retained event");
        assertEquals("end", type(late.getLast()));
    }

    @Test
    void cancelEndsEveryStreamWithACancelledEventThenEnd() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":1000,\"interval\":100}");
        Future<List<JsonNode>> sse = threads.submit(() -> data(clients.sse(id, null)));
        Future<List<JsonNode>> poll = threads.submit(() -> clients.longPoll(id, 0));
        StreamClients.Ws ws = clients.ws(id, "", true);
        while (ofType(ws.events, "pkt_recv").size() < 2) {
            Thread.sleep(20);
        }
        long asked = System.nanoTime();
        HttpResponse<String> response = clients.send("DELETE", "/tasks/" + id, null);
        assertEquals(200, response.statusCode(), response.body());
        JsonNode task = json(response.body());
        assertEquals("cancelled", task.get("state").asText());
        assertTrue(task.get("totals").get("sent").asInt() < 1000);
        assertEquals("1000 task ended", ws.closed.get(10, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - asked < TimeUnit.SECONDS.toNanos(3), "cancelled at once");
        for (List<JsonNode> events : List.of(sse.get(10, TimeUnit.SECONDS), poll.get(10, TimeUnit.SECONDS), ws.events)) {
            assertWholeTask(events, id);
            JsonNode error = events.get(events.size() - 2);
            assertEquals("error", type(error), "the stream says why it ends: " + error);
            assertEquals("cancelled", error.get("data").get("code").asText());
            assertTrue(error.get("data").get("message").asText().contains("DELETE"), error.toString());
            assertEquals(1, events.getLast().get("data").get("errors").asInt());
        }
        JsonNode listed = json(clients.send("GET", "/tasks", null).body());
        boolean found = false;
        for (JsonNode t : listed) {
            if (t.get("id").asText().equals(id)) {
                assertEquals("cancelled", t.get("state").asText());
                found = true;
            }
        }
        assertTrue(found, "GET /tasks lists the cancelled task: " + listed);
    }

    @Test
    void listsRunningTasksFirstThenRecentOnes() throws Exception {
        String done = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":1}");
        awaitEnded(done);
        String running = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":100,\"interval\":100}");
        try {
            JsonNode listed = json(clients.send("GET", "/tasks", null).body());
            List<String> ids = new ArrayList<>();
            listed.forEach(t -> ids.add(t.get("id").asText()));
            assertTrue(ids.indexOf(running) >= 0 && ids.indexOf(done) > ids.indexOf(running), ids.toString());
            assertEquals("running", listed.get(ids.indexOf(running)).get("state").asText());
            assertEquals("finished", listed.get(ids.indexOf(done)).get("state").asText());
            for (JsonNode t : listed) {
                if (t.get("state").asText().equals("running")) {
                    assertTrue(ids.indexOf(t.get("id").asText()) <= ids.indexOf(running), "running first: " + ids);
                }
            }
        } finally {
            clients.send("DELETE", "/tasks/" + running, null);
        }
    }

    private void assertRefused(HttpResponse<String> response, int status, String code, String field) {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        assertEquals(code, error.get("code").asText(), response.body());
        assertEquals(field, error.get("field").isNull() ? null : error.get("field").asText(), response.body());
        assertFalse(error.get("message").asText().isBlank());
    }

    @Test
    void refusesBadInputNamingTheField() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":2,\"interval\":10}");
        awaitEnded(id);
        assertRefused(clients.send("GET", "/tasks/0123456789abcdef", null), 404, "unknown_task", "id");
        assertRefused(clients.send("DELETE", "/tasks/0123456789abcdef", null), 404, "unknown_task", "id");
        assertRefused(clients.send("GET", "/tasks/0123456789abcdef/events", null), 404, "unknown_task", "id");
        assertRefused(clients.send("GET", "/tasks/" + id + "/events?cursor=abc", null), 400, "invalid_value", "cursor");
        assertRefused(clients.send("GET", "/tasks/" + id + "/events?cursor=-1", null), 400, "invalid_value", "cursor");
        assertRefused(clients.send("GET", "/tasks/" + id + "/events?cursor=999", null), 400, "out_of_range", "cursor");
        assertRefused(clients.send("GET", "/tasks/" + id + "/events?wait=forever", null), 400, "invalid_value", "wait");
        assertRefused(clients.send("GET", "/tasks/" + id + "/events?wait=61s", null), 400, "out_of_range", "wait");
        assertRefused(clients.send("GET", "/tasks/" + id + "/events", null, "Accept", "text/event-stream",
                "Last-Event-ID", "seven"), 400, "invalid_value", "Last-Event-ID");
        assertRefused(clients.send("POST", "/tasks", "{\"targets\":[\"127.0.0.1\"],\"count\":0}",
                "Content-Type", "application/json"), 400, "out_of_range", "count");
        HttpResponse<String> notUpgraded = clients.send("GET", "/tasks/" + id + "/ws", null);
        assertRefused(notUpgraded, 426, "websocket_required", null);
        assertEquals("websocket", notUpgraded.headers().firstValue("Upgrade").orElse(null), "a 426 names the protocol");

        StreamClients.Ws unknown = clients.ws("0123456789abcdef", "", true);
        String closed = unknown.closed.get(10, TimeUnit.SECONDS);
        assertTrue(closed.startsWith("4404 no task '0123456789abcdef'"), closed);
        StreamClients.Ws badCursor = clients.ws(id, "?cursor=abc", true);
        closed = badCursor.closed.get(10, TimeUnit.SECONDS);
        assertTrue(closed.startsWith("4400 'cursor' must be"), closed);

        CompletionException foreign = assertThrows(CompletionException.class, () -> clients.http().newWebSocketBuilder()
                .header("Origin", "http://evil.example")
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/tasks/" + id + "/ws"), new StreamClients.Ws(true))
                .join());
        WebSocketHandshakeException handshake = assertInstanceOf(WebSocketHandshakeException.class, foreign.getCause());
        assertEquals(403, handshake.getResponse().statusCode(), "a page of another site may not read task streams");
        StreamClients.Ws sameOrigin = new StreamClients.Ws(true);
        clients.http().newWebSocketBuilder().header("Origin", "http://127.0.0.1:" + server.port())
                .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/tasks/" + id + "/ws"), sameOrigin).join();
        assertEquals("1000 task ended", sameOrigin.closed.get(10, TimeUnit.SECONDS), "the hub's own pages may");
    }

    @Test
    void webSocketClosesOnMessagesLargerThanItsLimit() throws Exception {
        String id = clients.start("{\"targets\":[\"127.0.0.1\"],\"count\":100,\"interval\":100}");
        try {
            StreamClients.Ws ws = clients.ws(id, "", true);
            ws.socket.sendText("x".repeat(TaskSocket.MAX_MESSAGE + 1), true).join();
            String closed = ws.closed.get(10, TimeUnit.SECONDS);
            assertTrue(closed.startsWith("1009 "), closed);
        } finally {
            clients.send("DELETE", "/tasks/" + id, null);
        }
    }
}
