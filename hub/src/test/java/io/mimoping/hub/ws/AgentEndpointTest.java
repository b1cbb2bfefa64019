package io.mimoping.hub.ws;

import com.fasterxml.jackson.databind.JsonNode;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.hub.grpc.TcpRelay;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registration over {@code /ws} against a real hub on a real socket, with the JDK's WebSocket client. */
class AgentEndpointTest {

    static final Duration HEARTBEAT = Duration.ofMillis(200);
    static final Duration TIMEOUT = HEARTBEAT.multipliedBy(3);
    static final Duration WAIT = Duration.ofSeconds(5);
    static final String TOKEN = "s3cret-t0ken";

    private static IcmpEngine engine;
    private static TestHub hub;
    private static TestHub guarded;

    /** Every agent of this test that left either hub, with why (an earlier test's agent may leave late). */
    private final BlockingQueue<String> left = new LinkedBlockingQueue<>();
    private final Instant testStarted = Instant.now();
    private final AgentRegistry.Listener leftListener = (agent, reason) -> {
        if (!agent.connectedSince().isBefore(testStarted)) {
            left.add(agent.name() + ": " + reason);
        }
    };
    private final List<WsClient> clients = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startHubs() {
        engine = IcmpEngine.open();
        hub = new TestHub(engine, "hub-open", HEARTBEAT, null, 0);
        guarded = new TestHub(engine, "hub-guarded", HEARTBEAT, TOKEN, 0);
    }

    @AfterAll
    static void stopHubs() {
        if (hub != null) {
            hub.close();
        }
        if (guarded != null) {
            guarded.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    @BeforeEach
    void listen() {
        hub.registry.addListener(leftListener);
        guarded.registry.addListener(leftListener);
    }

    @AfterEach
    void disconnect() throws Exception {
        clients.forEach(WsClient::close);
        // every test leaves both hubs empty for the next one
        long deadline = System.nanoTime() + WAIT.toNanos();
        while ((!hub.registry.list().isEmpty() || !guarded.registry.list().isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(hub.registry.list().isEmpty(), () -> "left over: " + hub.registry.list());
        assertTrue(guarded.registry.list().isEmpty(), () -> "left over: " + guarded.registry.list());
    }

    private WsClient connect(TestHub to) throws Exception {
        WsClient client = new WsClient(to.ws());
        clients.add(client);
        return client;
    }

    @Test
    void anAgentRegistersAndIsListedInConns() throws Exception {
        Instant before = Instant.now().minusMillis(1);
        WsClient agent = connect(hub);
        JsonNode registered = agent.register("agent-1", null);
        Instant after = Instant.now().plusMillis(1);
        agent.heartbeatEvery(HEARTBEAT);

        assertEquals("registered", registered.get("type").asText(), registered.toString());
        assertEquals("hub-open", registered.get("hub").asText());
        assertEquals(HEARTBEAT.toMillis(), registered.get("heartbeat_ms").asLong());
        assertEquals(TIMEOUT.toMillis(), registered.get("timeout_ms").asLong());

        JsonNode conns = WsClient.JSON.readTree(hub.conns());
        assertEquals(1, conns.size(), conns.toString());
        JsonNode conn = conns.get(0);
        assertEquals("agent-1", conn.get("name").asText());
        assertTrue(conn.get("remote_addr").asText().matches("127\\.0\\.0\\.1:\\d{1,5}"), conn.toString());
        Instant since = Instant.parse(conn.get("connected_since").asText());
        assertTrue(!since.isBefore(before) && !since.isAfter(after), since + " not within " + before + ".." + after);
        assertEquals("9.9.9-test", conn.get("version").asText());
        assertEquals("lab", conn.get("labels").get("site").asText());
        assertEquals("r1", conn.get("labels").get("rack").asText());
        assertEquals("127.0.0.1:7070", conn.get("control_addr").asText());

        Agent found = hub.registry.find("agent-1").orElseThrow();
        assertEquals(conn.get("remote_addr").asText(), found.remoteAddress());

        // a live agent hears the hub's heartbeats and stays past the timeout
        assertEquals("heartbeat", agent.next(WAIT).get("type").asText());
        Thread.sleep(TIMEOUT.plus(HEARTBEAT).toMillis());
        assertTrue(hub.registry.find("agent-1").isPresent(), "a heartbeating agent was forgotten");
        assertFalse(agent.isClosed());

        agent.close();
        String why = left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(why, "onLeft not called after the agent disconnected");
        assertTrue(why.startsWith("agent-1: disconnected"), why);
        assertEquals("[]", hub.conns());
    }

    @Test
    void conssListsAgentsSortedByName() throws Exception {
        for (String name : List.of("c-agent", "a-agent", "b-agent")) {
            WsClient agent = connect(hub);
            assertEquals("registered", agent.register(name, null).get("type").asText());
            agent.heartbeatEvery(HEARTBEAT);
        }
        JsonNode conns = WsClient.JSON.readTree(hub.conns());
        assertEquals(List.of("a-agent", "b-agent", "c-agent"),
                List.of(conns.get(0).get("name").asText(), conns.get(1).get("name").asText(), conns.get(2).get("name").asText()));
        assertEquals(List.of("a-agent", "b-agent", "c-agent"), hub.registry.list().stream().map(Agent::name).toList());
    }

    @Test
    void aSecondLiveAgentWithTheSameNameIsRefusedAndTheFirstStays() throws Exception {
        WsClient first = connect(hub);
        assertEquals("registered", first.register("twin", null).get("type").asText());
        first.heartbeatEvery(HEARTBEAT);
        String firstAddress = hub.registry.find("twin").orElseThrow().remoteAddress();

        WsClient second = connect(hub);
        second.send(WsClient.registration("twin", null));
        WsClient.Close close = second.awaitClose(WAIT);
        assertEquals(AgentEndpoint.DUPLICATE_NAME, close.code(), close.toString());
        assertEquals("agent name 'twin' is already registered from " + firstAddress, close.reason());

        assertEquals(firstAddress, hub.registry.find("twin").orElseThrow().remoteAddress());
        assertEquals(1, hub.registry.list().size());
        assertNull(left.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "the first agent left");
        assertFalse(first.isClosed());
        assertEquals("heartbeat", first.next(WAIT).get("type").asText());
    }

    @Test
    void ofManyRacingForOneNameExactlyOneWins() throws Exception {
        int racers = 12;
        List<WsClient> all = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            all.add(connect(hub));
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (WsClient racer : all) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    start.await();
                    racer.send(WsClient.registration("contested", null));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        int winners = 0;
        for (WsClient racer : all) {
            if (!racer.answered(WAIT)) {
                assertEquals(AgentEndpoint.DUPLICATE_NAME, racer.awaitClose(WAIT).code());
                continue;
            }
            assertEquals("registered", racer.next(WAIT).get("type").asText());
            racer.heartbeatEvery(HEARTBEAT);
            winners++;
        }
        assertEquals(1, winners);
        assertEquals(1, hub.registry.list().size());
    }

    /** A hub without a broker (embedded mode) could never give an agent a task: it refuses them, saying why. */
    @Test
    void aHubThatGivesAgentsNoTasksRefusesThemSayingWhy() throws Exception {
        try (TestHub embedded = new TestHub(engine, "hub-embedded", HEARTBEAT, null, 0)) {
            embedded.registry.refuseAll("no RabbitMQ here");
            WsClient agent = connect(embedded);
            agent.send(WsClient.registration("hopeful", null));
            WsClient.Close close = agent.awaitClose(WAIT);
            assertEquals(AgentEndpoint.NO_TASKS, close.code(), close.toString());
            assertEquals("no RabbitMQ here", close.reason());
            assertEquals("[]", embedded.conns(), "not listed");
        }
    }

    @Test
    void aMissingOrWrongTokenIsRefusedAndLoggedOnceWithTheRepeatsCounted() throws Exception {
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(AgentEndpoint.class.getName());
        logger.addHandler(handler);
        try {
            for (String token : new String[] {null, "wrong", ""}) {
                WsClient agent = connect(guarded);
                agent.send(WsClient.registration("sneaky", token));
                WsClient.Close close = agent.awaitClose(WAIT);
                assertEquals(AgentEndpoint.INVALID_TOKEN, close.code(), "token " + token + ": " + close);
                assertEquals(token == null || token.isEmpty()
                        ? "invalid agent token: none given (the agent's --token or MIMOPING_AGENT_TOKEN)"
                        : "invalid agent token: wrong token", close.reason());
                assertTrue(guarded.registry.find("sneaky").isEmpty());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (warnings.size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            logger.removeHandler(handler);
        }
        List<String> lines = warnings.stream().map(LogRecord::getMessage).toList();
        assertEquals(2, lines.size(), "the first at once, then one line counting the other two: " + lines);
        String refusal = "refused agent 'sneaky' from 127\\.0\\.0\\.1:\\d+ with 4001: invalid agent token: ";
        assertTrue(lines.get(0).matches(refusal + "none given .*"), lines.get(0));
        assertTrue(lines.get(1).matches("refused on /ws with 4001: 2 more in the last \\d+\\.\\d s; the last: " + refusal
                + "none given .*"), lines.get(1));
        assertEquals("[]", guarded.conns());
        assertNull(left.poll(50, TimeUnit.MILLISECONDS), "a refused agent left, so it had joined");
    }

    @Test
    void theRightTokenIsAccepted() throws Exception {
        WsClient agent = connect(guarded);
        JsonNode registered = agent.register("trusted", TOKEN);
        assertEquals("registered", registered.get("type").asText(), registered.toString());
        assertEquals("hub-guarded", registered.get("hub").asText());
        assertTrue(guarded.registry.find("trusted").isPresent());
    }

    @Test
    void aSilentAgentIsForgottenAfterTheTimeout() throws Exception {
        WsClient agent = connect(hub);
        // the hub's silence timer starts when it takes the registration, after this and before the answer arrives
        long registeredAt = System.nanoTime();
        assertEquals("registered", agent.register("mute", null).get("type").asText());
        // it hears heartbeats but never answers
        assertEquals("heartbeat", agent.next(WAIT).get("type").asText());

        String why = left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        long leftAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - registeredAt);
        assertNotNull(why, "a silent agent was never forgotten");
        assertTrue(why.startsWith("mute: no heartbeat for "), why);
        assertTrue(leftAfter >= TIMEOUT.toMillis() && leftAfter < 2 * TIMEOUT.toMillis(),
                "forgotten " + leftAfter + " ms after asking to register; timeout " + TIMEOUT.toMillis() + " ms");
        assertTrue(hub.registry.find("mute").isEmpty());
        assertEquals("[]", hub.conns());

        WsClient.Close close = agent.awaitClose(WAIT);
        assertEquals(AgentEndpoint.HEARTBEAT_TIMEOUT, close.code(), close.toString());
        assertTrue(close.reason().startsWith("no heartbeat for "), close.reason());
    }

    @Test
    void anAgentWhoseConnectionDropsIsForgottenAtOnce() throws Exception {
        WsClient agent = connect(hub);
        assertEquals("registered", agent.register("killed", null).get("type").asText());
        agent.heartbeatEvery(HEARTBEAT);
        Thread.sleep(HEARTBEAT.toMillis());
        long droppedAt = System.nanoTime();
        agent.abort();
        String why = left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - droppedAt);
        assertNotNull(why, "a dropped agent was never forgotten");
        // seen as the connection's end, not as a heartbeat that could not be written or a timeout
        assertTrue(why.startsWith("killed: connection dropped without a close frame"), why);
        assertTrue(after < 1000, "forgotten only " + after + " ms after its connection dropped");
        assertTrue(hub.registry.find("killed").isEmpty());
    }

    @Test
    void aHalfOpenConnectionIsForgottenByTheHeartbeatTimeout() throws Exception {
        try (TcpRelay path = new TcpRelay(InetAddress.getLoopbackAddress(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), hub.port()))) {
            WsClient agent = new WsClient(URI.create("ws://127.0.0.1:" + path.port() + AgentEndpoint.PATH));
            clients.add(agent);
            assertEquals("registered", agent.register("cut-off", null).get("type").asText());
            agent.heartbeatEvery(HEARTBEAT);
            assertEquals("heartbeat", agent.next(WAIT).get("type").asText());
            // the agent goes on heartbeating, but nothing reaches the hub, and no FIN or RST either
            path.freeze();
            long frozenAt = System.nanoTime();
            String why = left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            long after = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
            assertNotNull(why, "a half-open agent was never forgotten");
            assertTrue(why.startsWith("cut-off: no heartbeat for "), why);
            // last heard at most a heartbeat before the freeze
            assertTrue(after >= TIMEOUT.minus(HEARTBEAT).toMillis(), "forgotten " + after + " ms after the path froze,"
                    + " before the " + TIMEOUT.toMillis() + " ms timeout");
            assertTrue(hub.registry.find("cut-off").isEmpty());
        }
    }

    @Test
    void aConnectionThatNeverRegistersIsClosedAfterTheTimeout() throws Exception {
        long opened = System.nanoTime();
        WsClient idle = connect(hub);
        WsClient.Close close = idle.awaitClose(WAIT);
        long after = TimeUnit.NANOSECONDS.toMillis(close.atNanos() - opened);
        assertEquals(AgentEndpoint.PROTOCOL_ERROR, close.code(), close.toString());
        assertEquals("no registration within " + TIMEOUT.toMillis() + " ms", close.reason());
        assertTrue(after >= TIMEOUT.toMillis() - 50 && after < TIMEOUT.toMillis() + 1000, "closed after " + after + " ms");
    }

    @Test
    void aNameFreedByATimeoutCanRegisterAgain() throws Exception {
        WsClient stale = connect(hub);
        assertEquals("registered", stale.register("phoenix", null).get("type").asText());
        assertNotNull(left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        WsClient fresh = connect(hub);
        assertEquals("registered", fresh.register("phoenix", null).get("type").asText());
        fresh.heartbeatEvery(HEARTBEAT);
        assertTrue(hub.registry.find("phoenix").isPresent());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "not json",
            "[1,2,3]",
            "{\"name\":\"no-type\"}",
            "{\"type\":\"heartbeat\"}",
            "{\"type\":\"register\"}",
            "{\"type\":\"register\",\"name\":42}",
            "{\"type\":\"register\",\"name\":\"-dash-first\"}",
            "{\"type\":\"register\",\"name\":\"has space\"}",
            "{\"type\":\"register\",\"name\":\"x1234567890123456789012345678901234567890123456789012345678901234\"}",
            "{\"type\":\"register\",\"name\":\"hub\"}",
            "{\"type\":\"register\",\"name\":\"ok\",\"labels\":[\"a\"]}",
            "{\"type\":\"register\",\"name\":\"ok\",\"labels\":{\"a\":1}}",
            "{\"type\":\"register\",\"name\":\"ok\",\"version\":7}",
    })
    void protocolErrorsCloseWith4000(String first) throws Exception {
        WsClient agent = connect(hub);
        agent.send(first);
        WsClient.Close close = agent.awaitClose(WAIT);
        assertEquals(AgentEndpoint.PROTOCOL_ERROR, close.code(), close.toString());
        assertFalse(close.reason().isBlank());
        assertTrue(close.reason().getBytes(StandardCharsets.UTF_8).length <= 123, close.reason());
        assertTrue(hub.registry.list().isEmpty(), hub.registry.list().toString());
    }

    @Test
    void reasonsNameTheProblem() throws Exception {
        WsClient reserved = connect(hub);
        reserved.send("{\"type\":\"register\",\"name\":\"hub\"}");
        assertEquals("agent name 'hub' is reserved for the hub itself", reserved.awaitClose(WAIT).reason());

        WsClient notFirst = connect(hub);
        notFirst.send("{\"type\":\"heartbeat\"}");
        assertEquals("the first message must be a registration, got 'heartbeat'", notFirst.awaitClose(WAIT).reason());

        WsClient badJson = connect(hub);
        badJson.send("{\"type\":");
        assertTrue(badJson.awaitClose(WAIT).reason().startsWith("invalid JSON: "));
    }

    @Test
    void aBinaryFrameOrASecondRegistrationIsAProtocolError() throws Exception {
        WsClient binary = connect(hub);
        binary.sendBinary(new byte[] {1, 2, 3});
        assertEquals(AgentEndpoint.PROTOCOL_ERROR, binary.awaitClose(WAIT).code());

        WsClient twice = connect(hub);
        assertEquals("registered", twice.register("twice", null).get("type").asText());
        twice.send(WsClient.registration("twice", null));
        WsClient.Close close = twice.awaitClose(WAIT);
        assertEquals(AgentEndpoint.PROTOCOL_ERROR, close.code());
        assertEquals("already registered as 'twice'", close.reason());
        String why = left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(why);
        assertTrue(why.startsWith("twice: protocol error"), why);
        assertTrue(hub.registry.find("twice").isEmpty());
    }

    @Test
    void unknownMessageTypesAfterRegistrationAreIgnored() throws Exception {
        WsClient agent = connect(hub);
        assertEquals("registered", agent.register("curious", null).get("type").asText());
        agent.send("{\"type\":\"something-new\",\"x\":1}");
        agent.heartbeatEvery(HEARTBEAT);
        Thread.sleep(HEARTBEAT.toMillis());
        assertFalse(agent.isClosed());
        assertTrue(hub.registry.find("curious").isPresent());
    }

    @Test
    void aStoppingHubSaysGoodbye() throws Exception {
        try (TestHub stopping = new TestHub(engine, "hub-stopping", HEARTBEAT, null, 0)) {
            stopping.registry.addListener(leftListener);
            WsClient agent = connect(stopping);
            assertEquals("registered", agent.register("leaver", null).get("type").asText());
            stopping.registry.close();
            stopping.server.stop();
            WsClient.Close close = agent.awaitClose(WAIT);
            assertEquals(1001, close.code(), close.toString());
            assertEquals("hub stopping", close.reason());
            assertEquals("leaver: the hub is stopping", left.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            assertTrue(stopping.registry.list().isEmpty());
        }
    }

    @Test
    void closeReasonsFitInAFrame() {
        String longName = "n".repeat(64);
        String reason = AgentEndpoint.closeReason("agent name '" + longName + "' is already registered from [2001:db8::1234:5678]:65535");
        assertTrue(reason.getBytes(StandardCharsets.UTF_8).length <= 123, reason);
        assertTrue(reason.endsWith("..."), reason);
        assertEquals("short", AgentEndpoint.closeReason("short"));
        String accents = AgentEndpoint.closeReason("é".repeat(100));
        assertTrue(accents.getBytes(StandardCharsets.UTF_8).length <= 123, accents);
    }
}
