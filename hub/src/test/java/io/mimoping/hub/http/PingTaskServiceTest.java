package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.engine.Threads;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.Poller;
import io.mimoping.agent.icmp.ReceivedPacket;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.ws.AgentRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

/** The seed-compatible HTTP API over a real socket, pinging loopback with the real engine. */
@ServerTest
class PingTaskServiceTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static IcmpEngine engine;
    private static AgentRegistry agents;

    private final WebServer server;
    private final Http1Client client;

    PingTaskServiceTest(WebServer server, Http1Client client) {
        this.server = server;
        this.client = client;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder builder) {
        engine = IcmpEngine.open();
        agents = new AgentRegistry("hub-test", Duration.ofSeconds(5), Duration.ofSeconds(15), null);
        Main.setup(builder, new HubSetup(engine, agents));
    }

    @AfterAll
    static void closeEngine() {
        if (agents != null) {
            agents.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    /** One NDJSON line and when it arrived. */
    private record Line(long arrivedNanos, JsonNode event) {
        String type() {
            return event.get("type").asText();
        }

        JsonNode data() {
            return event.get("data");
        }
    }

    private record Streamed(HttpResponse<?> response, List<Line> lines) {
        List<Line> ofType(String type) {
            return lines.stream().filter(l -> l.type().equals(type)).toList();
        }

        Line last() {
            return lines.getLast();
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** Posts a task as a streaming client would and records when each line arrives. */
    private Streamed stream(String body, String contentType) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/ping-task"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<Stream<String>> response = http.send(request.build(), HttpResponse.BodyHandlers.ofLines());
            List<Line> lines = new ArrayList<>();
            try (Stream<String> chunks = response.body()) {
                chunks.forEach(text -> {
                    long at = System.nanoTime();
                    if (text.isBlank()) {
                        return; // keep-alive spaces alone on the last line
                    }
                    try {
                        lines.add(new Line(at, JSON.readTree(text)));
                    } catch (IOException e) {
                        fail("not a JSON line: '" + text + "'", e);
                    }
                });
            }
            return new Streamed(response, lines);
        }
    }

    private Streamed stream(String body) throws IOException, InterruptedException {
        return stream(body, "application/json");
    }

    /** Every stream: 200 NDJSON, task first, end last, cursor 0..n-1, one task id, nothing after end. */
    private static void assertWellFormed(Streamed streamed) {
        assertEquals(200, streamed.response().statusCode());
        assertEquals("application/x-ndjson", streamed.response().headers().firstValue("Content-Type").orElse(null));
        List<Line> lines = streamed.lines();
        assertTrue(lines.size() >= 2, "at least task and end: " + lines);
        assertEquals("task", lines.getFirst().type(), "first line");
        assertEquals("end", streamed.last().type(), "last line");
        String task = lines.getFirst().data().get("id").asText();
        assertFalse(task.isEmpty(), "the task has an id");
        for (int i = 0; i < lines.size(); i++) {
            JsonNode metadata = lines.get(i).event().get("metadata");
            assertEquals(i, metadata.get("cursor").asLong(), "cursor of line " + i);
            assertEquals(task, metadata.get("task").asText(), "task id of line " + i);
        }
        assertEquals(1, lines.stream().filter(l -> l.type().equals("end")).count(), "one end line");
    }

    @Test
    void streamsTheReadmeExampleLive() throws Exception {
        Streamed streamed = stream("{\"targets\":[\"127.0.0.1\",\"::1\",\"localhost\"],\"count\":5,\"interval\":200}");
        assertWellFormed(streamed);

        JsonNode task = streamed.lines().getFirst().data();
        assertEquals(JSON.readTree("[\"127.0.0.1\",\"::1\",\"localhost\"]"), task.get("targets"));
        assertEquals(5, task.get("count").asInt());
        assertEquals(200, task.get("interval").asInt());
        assertEquals(10_000, task.get("timeout").asInt(), "default filled in");
        assertEquals(56, task.get("size").asInt(), "default filled in");
        assertEquals(JSON.readTree("[\"hub\"]"), task.get("from"), "no from: the hub pings itself, filled in");

        assertEquals(List.of(), streamed.ofType("pkt_timeout"), "loopback answers");
        assertEquals(List.of(), streamed.ofType("error"));
        Map<String, List<JsonNode>> replies = new HashMap<>();
        for (Line line : streamed.ofType("pkt_recv")) {
            JsonNode data = line.data();
            replies.computeIfAbsent(data.get("target").asText(), t -> new ArrayList<>()).add(data);
            assertEquals("hub", line.event().get("metadata").get("from").asText());
            assertTrue(data.get("rtt").asDouble() > 0, "rtt > 0: " + data);
            assertTrue(data.get("rtt").asDouble() < 1000, "loopback rtt well under a second: " + data);
            assertTrue(data.get("ttl").asInt() > 0, "ttl > 0: " + data);
            assertEquals(64, data.get("nbytes").asInt(), "8-byte header + 56-byte payload: " + data);
            assertFalse(data.get("dup").asBoolean());
            assertTrue(InetAddress.getByName(data.get("ip_addr").asText()).isLoopbackAddress(), data.toString());
            assertTrue(data.get("sent_at").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z"), data.toString());
        }
        assertEquals(Set.of("127.0.0.1", "::1", "localhost"), replies.keySet());
        for (var entry : replies.entrySet()) {
            List<Long> seqs = entry.getValue().stream().map(d -> d.get("seq").asLong()).sorted().toList();
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), seqs, "one reply per probe of " + entry.getKey());
        }
        assertEquals("127.0.0.1", replies.get("127.0.0.1").getFirst().get("ip_addr").asText());
        assertEquals("::1", replies.get("::1").getFirst().get("ip_addr").asText(), "RFC 5952 text");

        List<Line> stats = streamed.ofType("ping_stats");
        assertEquals(3, stats.size(), "one ping_stats per target");
        for (Line line : stats) {
            JsonNode data = line.data();
            String target = data.get("target").asText();
            assertEquals(5, data.get("packets_sent").asLong(), target);
            assertEquals(5, data.get("packets_recv").asLong(), target);
            assertEquals(0, data.get("packets_recv_duplicates").asLong(), target);
            assertEquals(0.0, data.get("packet_loss").asDouble(), target);
            // The stats repeat the replies' RTTs, in probe order.
            List<Double> rtts = new ArrayList<>();
            data.get("rtts").forEach(r -> rtts.add(r.asDouble()));
            List<Double> streamedRtts = replies.get(target).stream()
                    .sorted((a, b) -> Long.compare(a.get("seq").asLong(), b.get("seq").asLong()))
                    .map(d -> d.get("rtt").asDouble()).toList();
            assertEquals(streamedRtts, rtts, target);
            double min = rtts.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            double max = rtts.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            assertEquals(min, data.get("min_rtt").asDouble(), target);
            assertEquals(max, data.get("max_rtt").asDouble(), target);
            assertTrue(data.get("avg_rtt").asDouble() >= min && data.get("avg_rtt").asDouble() <= max, target);
            // Each target's stats come after its last reply.
            long lastReplyCursor = streamed.ofType("pkt_recv").stream()
                    .filter(l -> l.data().get("target").asText().equals(target))
                    .mapToLong(l -> l.event().get("metadata").get("cursor").asLong()).max().orElseThrow();
            assertTrue(line.event().get("metadata").get("cursor").asLong() > lastReplyCursor, target);
        }

        JsonNode end = streamed.last().data();
        assertEquals(15, end.get("sent").asLong());
        assertEquals(15, end.get("received").asLong());
        assertEquals(0, end.get("timeouts").asLong());
        assertEquals(0, end.get("errors").asLong());
        assertTrue(end.get("duration_ms").asLong() >= 800, "4 intervals of 200 ms: " + end);

        // Live: replies arrive as they happen, not in one piece when the task ends.
        long firstReply = streamed.ofType("pkt_recv").getFirst().arrivedNanos();
        long endArrived = streamed.last().arrivedNanos();
        long apartMillis = (endArrived - firstReply) / 1_000_000;
        assertTrue(apartMillis >= 600, "first pkt_recv arrived only " + apartMillis + " ms before end");
    }

    static Stream<Arguments> refusedRequests() {
        String json = "application/json";
        byte[] huge = new byte[JsonBody.MAX_BODY + 1];
        Arrays.fill(huge, (byte) ' ');
        huge[0] = '{';
        return Stream.of(
                argumentSet("invalid JSON", json, "{\"targets\":[\"127.0.0.1\"".getBytes(StandardCharsets.UTF_8),
                        Status.BAD_REQUEST_400, "invalid_json", null),
                argumentSet("empty body", json, new byte[0], Status.BAD_REQUEST_400, "invalid_json", null),
                argumentSet("unknown field", json, "{\"targets\":[\"127.0.0.1\"],\"colour\":1}".getBytes(StandardCharsets.UTF_8),
                        Status.BAD_REQUEST_400, "unknown_field", "colour"),
                argumentSet("duplicate key", json, "{\"targets\":[\"127.0.0.1\"],\"count\":1,\"count\":1}".getBytes(StandardCharsets.UTF_8),
                        Status.BAD_REQUEST_400, "duplicate_field", "count"),
                argumentSet("count 0", json, "{\"targets\":[\"127.0.0.1\"],\"count\":0}".getBytes(StandardCharsets.UTF_8),
                        Status.BAD_REQUEST_400, "out_of_range", "count"),
                argumentSet("target with a space", json, "{\"targets\":[\"127.0.0.1\",\"a b\"]}".getBytes(StandardCharsets.UTF_8),
                        Status.BAD_REQUEST_400, "invalid_value", "targets[1]"),
                argumentSet("body over 1 MiB", json, huge, Status.REQUEST_ENTITY_TOO_LARGE_413, "body_too_large", null),
                argumentSet("text/plain", "text/plain", "{\"targets\":[\"127.0.0.1\"]}".getBytes(StandardCharsets.UTF_8),
                        Status.UNSUPPORTED_MEDIA_TYPE_415, "unsupported_media_type", null),
                argumentSet("application/xml", "application/xml", "<targets/>".getBytes(StandardCharsets.UTF_8),
                        Status.UNSUPPORTED_MEDIA_TYPE_415, "unsupported_media_type", null));
    }

    @ParameterizedTest
    @MethodSource("refusedRequests")
    void refusesBadRequestsWithAJsonErrorAndKeepsServing(String contentType, byte[] body, Status status, String code,
                                                         String field) throws Exception {
        try (Http1ClientResponse response = client.post("/ping-task")
                .header(HeaderNames.CONTENT_TYPE, contentType)
                .submit(body)) {
            String text = response.as(String.class);
            assertEquals(status, response.status(), text);
            assertEquals("application/json", response.headers().contentType().map(t -> t.mediaType().text()).orElse(null),
                    "an error is JSON, not NDJSON");
            JsonNode error = JSON.readTree(text).get("error");
            assertNotNull(error, "{\"error\":{...}}: " + text);
            assertEquals(Set.of("code", "field", "message"), fieldNames(error), text);
            assertEquals(code, error.get("code").asText(), text);
            if (field == null) {
                assertTrue(error.get("field").isNull(), "field null for the body as a whole: " + text);
            } else {
                assertEquals(field, error.get("field").asText(), text);
            }
            assertFalse(error.get("message").asText().isBlank(), text);
        }
        // The same client (and connection, when kept) still gets a task served.
        try (Http1ClientResponse response = client.post("/ping-task")
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .submit("{\"targets\":[\"127.0.0.1\"],\"count\":1}")) {
            assertEquals(Status.OK_200, response.status());
            String[] lines = response.as(String.class).strip().split("\n");
            JsonNode end = JSON.readTree(lines[lines.length - 1]);
            assertEquals("end", end.get("type").asText());
            assertEquals(1, end.get("data").get("received").asLong(), end.toString());
        }
    }

    private static Set<String> fieldNames(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void acceptsCurlsDefaultContentTypeAndNone() throws Exception {
        String body = "{\"targets\":[\"127.0.0.1\"],\"count\":1}";
        for (String type : new String[]{"application/x-www-form-urlencoded", null, "application/json; charset=utf-8"}) {
            Streamed streamed = stream(body, type);
            assertWellFormed(streamed);
            assertEquals(1, streamed.last().data().get("received").asLong(), "Content-Type " + type);
        }
    }

    @Test
    void unknownAgentInEmbeddedModeIsAnErrorEvent() throws Exception {
        Streamed streamed = stream("{\"from\":[\"agent-x\"],\"targets\":[\"127.0.0.1\"],\"count\":2,\"interval\":50}");
        assertWellFormed(streamed);
        assertEquals(List.of("task", "error", "end"), streamed.lines().stream().map(Line::type).toList(),
                "no probes: nobody to send them");
        JsonNode error = streamed.ofType("error").getFirst().data();
        assertEquals("agent_unknown", error.get("code").asText());
        assertEquals("agent-x", error.get("agent").asText());
        assertTrue(error.get("message").asText().contains("agent-x"), error.toString());
        JsonNode end = streamed.last().data();
        assertEquals(0, end.get("sent").asLong());
        assertEquals(1, end.get("errors").asLong());
    }

    @Test
    void hubNamedBesideAnUnknownAgentStillPings() throws Exception {
        Streamed streamed = stream("{\"from\":[\"hub\",\"agent-x\"],\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":2,\"interval\":50}");
        assertWellFormed(streamed);
        List<Line> errors = streamed.ofType("error");
        assertEquals(1, errors.size(), streamed.lines().toString());
        assertEquals("agent_unknown", errors.getFirst().data().get("code").asText());
        assertEquals("agent-x", errors.getFirst().data().get("agent").asText());
        assertEquals(4, streamed.ofType("pkt_recv").size());
        streamed.ofType("pkt_recv").forEach(l -> assertEquals("hub", l.event().get("metadata").get("from").asText()));
        assertEquals(2, streamed.ofType("ping_stats").size());
        JsonNode end = streamed.last().data();
        assertEquals(4, end.get("sent").asLong());
        assertEquals(4, end.get("received").asLong());
        assertEquals(1, end.get("errors").asLong());
    }

    /**
     * A page of another site cannot make the hub ping: a browser sends its form-encoded POST without asking, but
     * with an {@code Origin}, and the hub refuses what does not come from its own pages. Reads, and clients that
     * send no {@code Origin}, go through.
     */
    @Test
    void anotherSitesPageCannotStartOrCancelTasks() throws Exception {
        String body = "{\"targets\":[\"127.0.0.1\"],\"count\":1}";
        for (Method method : List.of(Method.POST, Method.DELETE)) {
            for (String path : List.of("/ping-task", "/tasks", "/tasks/0123456789abcdef")) {
                try (Http1ClientResponse response = client.method(method).path(path)
                        .header(HeaderNames.ORIGIN, "http://evil.example")
                        .header(HeaderNames.CONTENT_TYPE, "application/x-www-form-urlencoded").submit(body)) {
                    assertEquals(Status.FORBIDDEN_403, response.status(), method + " " + path);
                    JsonNode error = JSON.readTree(response.as(String.class)).get("error");
                    assertEquals("forbidden_origin", error.get("code").asText(), method + " " + path);
                    assertEquals("Origin", error.get("field").asText());
                    assertTrue(error.get("message").asText().contains("http://evil.example"), error.toString());
                }
            }
        }
        try (Http1ClientResponse response = client.get("/conns").header(HeaderNames.ORIGIN, "http://evil.example")
                .request()) {
            assertEquals(Status.OK_200, response.status(), "reads go through (no CORS: the page cannot see them)");
        }
        try (Http1ClientResponse response = client.post("/ping-task").header(HeaderNames.HOST, "127.0.0.1:" + server.port())
                .header(HeaderNames.ORIGIN, "http://127.0.0.1:" + server.port())
                .header(HeaderNames.CONTENT_TYPE, "application/json").submit(body)) {
            assertEquals(Status.OK_200, response.status(), "the hub's own pages may");
            assertTrue(response.as(String.class).contains("\"type\":\"end\""));
        }
    }

    /** A wrong method gets 405, the methods allowed, and an error naming them, not a plain-text 404. */
    @Test
    void aWrongMethodIsNamedWithTheOnesAllowed() throws Exception {
        record Case(Method method, String path, String allowed) {
        }
        for (Case c : List.of(new Case(Method.GET, "/ping-task", "POST"), new Case(Method.POST, "/conns", "GET"),
                new Case(Method.PUT, "/tasks", "GET, POST"), new Case(Method.POST, "/tasks/abc", "GET, DELETE"))) {
            try (Http1ClientResponse response = client.method(c.method()).path(c.path()).request()) {
                assertEquals(Status.METHOD_NOT_ALLOWED_405, response.status(), c.toString());
                assertEquals(c.allowed(), response.headers().get(HeaderNames.ALLOW).get(), c.toString());
                JsonNode error = JSON.readTree(response.as(String.class)).get("error");
                assertEquals("method_not_allowed", error.get("code").asText(), c.toString());
                assertEquals(c.method().text() + " is not allowed on " + c.path() + "; use " + c.allowed(),
                        error.get("message").asText());
            }
        }
    }

    @Test
    void connsIsEmptyInEmbeddedMode() throws Exception {
        try (Http1ClientResponse response = client.get("/conns").request()) {
            assertEquals(Status.OK_200, response.status());
            assertEquals("application/json", response.headers().contentType().map(t -> t.mediaType().text()).orElse(null));
            JsonNode conns = JSON.readTree(response.as(String.class));
            assertTrue(conns.isArray(), conns.toString());
            assertEquals(0, conns.size());
        }
    }

    @Test
    void aClientThatGoesAwayStopsItsProbes() throws Exception {
        InetAddress target = uniqueLoopback();
        try (EchoRequestWatch watch = new EchoRequestWatch(target)) {
            long closedAt;
            try (Socket socket = openTask(target, 1000, 20)) {
                BufferedReader in = reader(socket);
                awaitReplies(in, 25);
                closedAt = System.nanoTime();
            }
            long before = watch.countBetween(watch.startedAt, closedAt);
            assertTrue(before >= 20, "probes ran while the client listened: " + before);
            // Grace: the hub notices at its next write; then nothing more for a while.
            Thread.sleep(2_500);
            long late = watch.countBetween(closedAt + 1_000_000_000L, System.nanoTime());
            assertEquals(0, late, "echo requests 1 to 2.5 s after the client left; the last one "
                    + (watch.lastAt() - closedAt) / 1_000_000 + " ms after the close");
        }
        // The hub itself is fine and serves the next client.
        Streamed next = stream("{\"targets\":[\"127.0.0.1\"],\"count\":1}");
        assertEquals(1, next.last().data().get("received").asLong());
    }

    @Test
    void aClientThatGoesAwayDuringASilentStretchStopsItsProbes() throws Exception {
        InetAddress target = uniqueLoopback();
        try (EchoRequestWatch watch = new EchoRequestWatch(target)) {
            long closedAt;
            // Probes 4 s apart: nothing to write for longer than the keep-alive period (1 s).
            try (Socket socket = openTask(target, 1000, 4000)) {
                awaitReplies(reader(socket), 1);
                closedAt = System.nanoTime();
            }
            Thread.sleep(5_000);
            // The watch stamps a request when its thread reads it, which may be after the close: give it 1 s,
            // far less than the 4 s to the next probe.
            long seenBy = closedAt + 1_000_000_000L;
            assertEquals(1, watch.countBetween(watch.startedAt, seenBy), "the first probe went out before the close");
            assertEquals(0, watch.countBetween(seenBy, System.nanoTime()),
                    "the probe due 4 s after the first was not sent: keep-alives noticed the client had gone");
        }
    }

    /** A loopback address no other test pings: 127.77.x.y. */
    private static InetAddress uniqueLoopback() throws IOException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return InetAddress.getByAddress(new byte[]{127, 77, (byte) random.nextInt(1, 255), (byte) random.nextInt(1, 255)});
    }

    /** Sends the request by hand, as a minimal client would, and checks the stream started. */
    private Socket openTask(InetAddress target, int count, int interval) throws IOException {
        byte[] body = ("{\"targets\":[\"" + target.getHostAddress() + "\"],\"count\":" + count + ",\"interval\":" + interval + "}")
                .getBytes(StandardCharsets.UTF_8);
        Socket socket = new Socket("127.0.0.1", server.port());
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /ping-task HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return socket;
    }

    private static BufferedReader reader(Socket socket) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        String status = in.readLine();
        assertNotNull(status, "no response");
        assertTrue(status.startsWith("HTTP/1.1 200"), status);
        return in;
    }

    /** Reads the (chunked) stream until this many pkt_recv lines have come. */
    private static void awaitReplies(BufferedReader in, int replies) throws IOException {
        int seen = 0;
        String line;
        while (seen < replies && (line = in.readLine()) != null) {
            String text = line.strip();
            if (text.startsWith("{") && JSON.readTree(text).get("type").asText().equals("pkt_recv")) {
                seen++;
            }
        }
        assertEquals(replies, seen, "the stream ended early");
    }

    /**
     * Watches this host's loopback for ICMP echo requests to one IPv4 address, through a raw socket of its
     * own: what the hub's engine actually sends, whatever the hub reports.
     */
    private static final class EchoRequestWatch implements AutoCloseable {
        private final byte[] destination;
        private final IcmpSocket socket = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.RAW);
        private final Poller poller;
        private final List<Long> seen = new CopyOnWriteArrayList<>();
        final long startedAt = System.nanoTime();
        private final Thread thread;
        private volatile boolean running = true;

        EchoRequestWatch(InetAddress destination) {
            this.destination = destination.getAddress();
            socket.acceptOnly(IcmpFamily.V4.echoRequest());
            poller = new Poller(List.of(socket));
            thread = Thread.ofPlatform().name("echo-request-watch").start(this::run);
        }

        private void run() {
            ReceivedPacket packet = new ReceivedPacket();
            while (running) {
                poller.await(50_000_000L);
                while (socket.receive(packet)) {
                    ByteBuffer ip = packet.message();
                    if (ip.get(packet.offset()) != 8) {
                        continue;
                    }
                    byte[] to = new byte[4];
                    ip.get(16, to);
                    if (Arrays.equals(to, destination)) {
                        seen.add(System.nanoTime());
                    }
                }
            }
        }

        long countBetween(long fromNanos, long toNanos) {
            return seen.stream().filter(t -> t - fromNanos >= 0 && toNanos - t > 0).count();
        }

        /** When the last echo request was seen; when the watch started if none was. */
        long lastAt() {
            return seen.isEmpty() ? startedAt : seen.getLast();
        }

        @Override
        public void close() {
            running = false;
            poller.wakeup();
            Threads.joinUninterruptibly(thread);
            poller.close();
            socket.close();
        }
    }
}
