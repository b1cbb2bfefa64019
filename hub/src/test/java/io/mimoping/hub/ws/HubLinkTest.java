package io.mimoping.hub.ws;

import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.HubLink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent's side of {@code /ws}, {@link HubLink}, against a real hub (and one deliberately silent peer). */
class HubLinkTest {

    static final Duration HEARTBEAT = Duration.ofMillis(200);
    static final Duration WAIT = Duration.ofSeconds(10);
    static final HubLink.Backoff FAST = new HubLink.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable resource : resources.reversed()) {
            resource.close();
        }
    }

    private <T extends AutoCloseable> T open(T resource) {
        resources.add(resource);
        return resource;
    }

    /** What a link told its listener, and when. */
    record Event(String kind, String detail, int code, long atNanos) {
    }

    static final class Recorder implements HubLink.Listener {
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final List<Event> all = new CopyOnWriteArrayList<>();

        private void add(Event event) {
            events.add(event);
            all.add(event);
        }

        @Override
        public void onRegistered(String hubId) {
            add(new Event("registered", hubId, 0, System.nanoTime()));
        }

        @Override
        public void onRefused(int code, String reason) {
            add(new Event("refused", reason, code, System.nanoTime()));
        }

        @Override
        public void onDisconnected(String reason) {
            add(new Event("disconnected", reason, 0, System.nanoTime()));
        }

        Event next(String kind) throws InterruptedException {
            Event event;
            do {
                event = events.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertNotNull(event, "no '" + kind + "' within " + WAIT + "; so far " + all);
            } while (!event.kind().equals(kind));
            return event;
        }
    }

    private HubLink link(URI hub, String name, String token, Recorder recorder) {
        HubLink link = open(new HubLink(hub, new HubLink.Registration(name, "1.2.3", Map.of("zone", "test"),
                "127.0.0.1:7071", token), recorder, FAST));
        link.start();
        return link;
    }

    @Test
    void aLinkRegistersAndStaysRegistered() throws Exception {
        TestHub hub = open(new TestHub(engine, "hub-a", HEARTBEAT, null, 0));
        Recorder recorder = new Recorder();
        HubLink link = link(hub.ws(), "linked", null, recorder);
        assertEquals("hub-a", recorder.next("registered").detail());
        assertEquals("hub-a", link.hubId().orElseThrow());
        Agent agent = hub.registry.find("linked").orElseThrow();
        assertEquals("1.2.3", agent.version());
        assertEquals(Map.of("zone", "test"), agent.labels());
        assertEquals("127.0.0.1:7071", agent.controlAddress());

        // heartbeats keep it registered well past the hub's timeout
        Thread.sleep(HEARTBEAT.multipliedBy(8).toMillis());
        assertTrue(hub.registry.find("linked").isPresent(), "the hub forgot a heartbeating link");
        assertEquals(1, recorder.all.size(), recorder.all.toString());

        // closing the link says goodbye at once
        BlockingQueue<String> left = new LinkedBlockingQueue<>();
        hub.registry.addListener((gone, reason) -> left.add(reason));
        link.close();
        String reason = left.poll(2, TimeUnit.SECONDS);
        assertNotNull(reason);
        assertTrue(reason.contains("1000"), reason);
    }

    @Test
    void linksReRegisterAfterAHubRestartSpreadInTime() throws Exception {
        TestHub first = new TestHub(engine, "hub-before", HEARTBEAT, null, 0);
        int port = first.port();
        int links = 6;
        List<Recorder> recorders = new ArrayList<>();
        for (int i = 0; i < links; i++) {
            Recorder recorder = new Recorder();
            recorders.add(recorder);
            link(first.ws(), "spread-" + i, null, recorder);
        }
        for (Recorder recorder : recorders) {
            assertEquals("hub-before", recorder.next("registered").detail());
        }
        first.close();
        for (Recorder recorder : recorders) {
            recorder.next("disconnected");
        }
        Thread.sleep(500); // the hub is down for a while: links back off
        long restarted = System.nanoTime();
        TestHub second = open(new TestHub(engine, "hub-after", HEARTBEAT, null, port));
        List<Long> backAfterMs = new ArrayList<>();
        for (Recorder recorder : recorders) {
            Event again = recorder.next("registered");
            assertEquals("hub-after", again.detail());
            backAfterMs.add(TimeUnit.NANOSECONDS.toMillis(again.atNanos() - restarted));
        }
        assertEquals(links, second.registry.list().size(), second.registry.list().toString());
        long spread = backAfterMs.stream().mapToLong(Long::longValue).max().orElseThrow()
                - backAfterMs.stream().mapToLong(Long::longValue).min().orElseThrow();
        assertTrue(spread >= 50, "links came back at nearly the same instant: " + backAfterMs + " ms after the restart");
        assertTrue(backAfterMs.stream().allMatch(ms -> ms < FAST.max().toMillis() + 1000),
                "a link took too long to come back: " + backAfterMs);
    }

    @Test
    void aLinkWithABadTokenStopsAndSaysWhy() throws Exception {
        TestHub hub = open(new TestHub(engine, "hub-guarded", HEARTBEAT, "right", 0));
        Recorder wrong = new Recorder();
        HubLink link = link(hub.ws(), "wrong-token", "wrong", wrong);
        Event refused = wrong.next("refused");
        assertEquals(HubLink.INVALID_TOKEN, refused.code());
        assertEquals("invalid agent token: wrong token", refused.detail());
        // it stopped: no retries, never registered
        assertNull(wrong.events.poll(FAST.max().toMillis() + 500, TimeUnit.MILLISECONDS), wrong.all.toString());
        assertTrue(link.hubId().isEmpty());
        assertTrue(hub.registry.list().isEmpty());

        Recorder none = new Recorder();
        link(hub.ws(), "no-token", null, none);
        assertEquals(HubLink.INVALID_TOKEN, none.next("refused").code());

        Recorder right = new Recorder();
        link(hub.ws(), "right-token", "right", right);
        assertEquals("hub-guarded", right.next("registered").detail());
    }

    @Test
    void aDuplicateNameIsRetriedUntilTheNameIsFree() throws Exception {
        TestHub hub = open(new TestHub(engine, "hub-dup", HEARTBEAT, null, 0));
        WsClient holder = open(new WsClient(hub.ws()));
        assertEquals("registered", holder.register("taken", null).get("type").asText());
        holder.heartbeatEvery(HEARTBEAT);

        Recorder recorder = new Recorder();
        link(hub.ws(), "taken", null, recorder);
        Event refusedForNow = recorder.next("disconnected");
        assertTrue(refusedForNow.detail().contains(String.valueOf(HubLink.DUPLICATE_NAME)), refusedForNow.detail());
        assertTrue(refusedForNow.detail().contains("already registered"), refusedForNow.detail());

        holder.close();
        assertEquals("hub-dup", recorder.next("registered").detail());
        assertTrue(recorder.all.stream().noneMatch(e -> e.kind().equals("refused")), recorder.all.toString());
    }

    @Test
    void aSilentHubIsLeftAndReconnected() throws Exception {
        try (SilentHub silent = new SilentHub()) {
            Recorder recorder = new Recorder();
            link(silent.uri(), "patient", null, recorder);
            Event first = recorder.next("registered");
            assertEquals("silent", first.detail());
            // the link's silence clock starts a moment before it reports the registration
            long registered = first.atNanos() - TimeUnit.MILLISECONDS.toNanos(20);
            Event lost = recorder.next("disconnected");
            long after = TimeUnit.NANOSECONDS.toMillis(lost.atNanos() - registered);
            assertTrue(lost.detail().startsWith("the hub was silent for"), lost.detail());
            assertTrue(after >= SilentHub.TIMEOUT_MS && after < SilentHub.TIMEOUT_MS + 500, "left after " + after + " ms");
            assertEquals("silent", recorder.next("registered").detail());
            assertTrue(silent.connections.get() >= 2);
            assertTrue(silent.firstRegistration.contains("\"name\":\"patient\""), silent.firstRegistration);
        }
    }

    @Test
    void anUnreachableHubIsRetried() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Recorder recorder = new Recorder();
        link(URI.create("ws://127.0.0.1:" + port + "/ws"), "early", null, recorder);
        Thread.sleep(700); // several attempts fail while nothing listens
        TestHub hub = open(new TestHub(engine, "hub-late", HEARTBEAT, null, port));
        assertEquals("hub-late", recorder.next("registered").detail());
        assertTrue(hub.registry.find("early").isPresent());
        assertTrue(recorder.all.stream().noneMatch(e -> e.kind().equals("refused")), recorder.all.toString());
    }

    /**
     * A peer that accepts the WebSocket handshake, answers the registration with a short timeout, then never
     * says another word: what a hung hub looks like to an agent.
     */
    static final class SilentHub implements AutoCloseable {
        static final int TIMEOUT_MS = 400;
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        final List<Socket> sockets = new CopyOnWriteArrayList<>();
        volatile String firstRegistration = "";
        final Thread acceptor = Thread.ofVirtual().start(this::accept);

        SilentHub() throws IOException {
        }

        URI uri() {
            return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/ws");
        }

        private void accept() {
            try {
                while (true) {
                    Socket socket = server.accept();
                    sockets.add(socket);
                    Thread.ofVirtual().start(() -> serve(socket));
                }
            } catch (IOException e) {
                // closed
            }
        }

        private void serve(Socket socket) {
            try {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                String key = null;
                StringBuilder line = new StringBuilder();
                int c;
                while ((c = in.read()) >= 0) {
                    if (c == '\n') {
                        String header = line.toString().strip();
                        if (header.isEmpty()) {
                            break;
                        }
                        if (header.toLowerCase().startsWith("sec-websocket-key:")) {
                            key = header.substring(header.indexOf(':') + 1).strip();
                        }
                        line.setLength(0);
                    } else {
                        line.append((char) c);
                    }
                }
                String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                        .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String registration = readTextFrame(in);
                if (connections.incrementAndGet() == 1) {
                    firstRegistration = registration;
                }
                byte[] answer = ("{\"type\":\"registered\",\"hub\":\"silent\",\"heartbeat_ms\":100,\"timeout_ms\":"
                        + TIMEOUT_MS + "}").getBytes(StandardCharsets.UTF_8);
                out.write(new byte[] {(byte) 0x81, (byte) answer.length});
                out.write(answer);
                out.flush();
                while (in.read() >= 0) {
                    // hears the agent's heartbeats, answers nothing
                }
            } catch (Exception e) {
                // the agent went away
            }
        }

        /** One masked client text frame (short, unfragmented). */
        private static String readTextFrame(InputStream in) throws IOException {
            in.read();
            int length = in.read() & 0x7f;
            if (length == 126) {
                length = (in.read() << 8) | in.read();
            }
            byte[] mask = in.readNBytes(4);
            byte[] payload = in.readNBytes(length);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i % 4];
            }
            return new String(payload, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }
}
