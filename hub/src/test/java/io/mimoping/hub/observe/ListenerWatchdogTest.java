package io.mimoping.hub.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.agent.observe.ListenerProbes;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.hub.ChildJvm;
import io.mimoping.hub.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The systemd watchdog fed by probes of the real listeners. A listener is killed for real: the process's file
 * descriptor limit is lowered live ({@code prlimit}) to just above what it has open, as if something else had
 * eaten them, and connections are opened until {@code accept()} fails with EMFILE and Helidon's listener stops
 * for good (the process and its {@code WebServer} live on). Then {@code WATCHDOG=1} must stop within seconds, so
 * that systemd restarts the service, and {@code STATUS=} must name the dead listener.
 */
class ListenerWatchdogTest {

    private static final String BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/";
    private static final Duration WAIT = Duration.ofSeconds(40);
    /** From the listener's death to the last watchdog ping: {@value ListenerProbes#FAILURES} probe rounds, and slack. */
    private static final Duration DETECTED_WITHIN = Duration.ofSeconds(10);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    @Test
    void aHubWhoseListenerDiesStopsFeedingTheWatchdog() throws Exception {
        try (NotifyReceiver systemd = new NotifyReceiver(dir.resolve("hub.notify").toString())) {
            ChildJvm hub = systemd.start(Main.class, "--addr", "127.0.0.1:0");
            try {
                int port = hub.port(WAIT);
                systemd.await(m -> m.has("READY=1"), WAIT, "the hub's READY=1");
                awaitProbesAnswered("http://127.0.0.1:" + port, "http", "websocket", "grpc");

                long dead = killListener(hub, port);
                hub.awaitLine("this server socket is terminating now", WAIT);
                NotifyReceiver.Message unhealthy = systemd.await(m -> m.at() > dead && m.has("STATUS=unhealthy: "), WAIT,
                        "the hub's unhealthy status");
                String where = " on 127.0.0.1:" + port + " failing since ";
                assertTrue(unhealthy.has("STATUS=unhealthy: http GET /health/live" + where), unhealthy.text());
                assertTrue(unhealthy.text().contains("; websocket WebSocket upgrade of /ws" + where), unhealthy.text());
                assertTrue(unhealthy.text().contains("; grpc gRPC mimoping.v1.Hub/ListAgents" + where), unhealthy.text());
                assertTrue(unhealthy.text().contains("Connection refused"), unhealthy.text());
                assertWatchdogStopped(systemd, dead);
                assertTrue(hub.process().isAlive(), "the hub lives on (only the watchdog gets it restarted)");
                hub.awaitLine("withholding the systemd watchdog ping: unhealthy: http GET /health/live", WAIT);
            } finally {
                hub.process().destroyForcibly();
            }
        }
    }

    @Test
    void anAgentWhoseControlServerDiesStopsFeedingTheWatchdog() throws Exception {
        String name = "wd-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        int noHub;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            noHub = free.getLocalPort();
        }
        try (NotifyReceiver systemd = new NotifyReceiver("@mimoping-test-" + name)) {
            // no hub: the agent is live (not ready) while it waits for one, and feeds the watchdog
            ChildJvm agent = systemd.start(AgentMain.class, "--node-name", name,
                    "--addr", "127.0.0.1:" + noHub, "--rabbitmq-broker-url", BROKER_URL, "--control-addr", "127.0.0.1:0");
            try {
                int port = agent.port(WAIT);
                systemd.await(m -> m.has("WATCHDOG=1"), WAIT, "the agent's first WATCHDOG=1");
                awaitProbesAnswered("http://127.0.0.1:" + port, "control");

                long dead = killListener(agent, port);
                agent.awaitLine("this server socket is terminating now", WAIT);
                NotifyReceiver.Message unhealthy = systemd.await(m -> m.at() > dead && m.has("STATUS=unhealthy: "), WAIT,
                        "the agent's unhealthy status");
                assertTrue(unhealthy.has("STATUS=unhealthy: control gRPC grpc.health.v1.Health/Check on 127.0.0.1:" + port
                        + " failing since "), unhealthy.text());
                assertTrue(unhealthy.text().contains("UNAVAILABLE"), unhealthy.text());
                assertWatchdogStopped(systemd, dead);
                assertTrue(agent.process().isAlive(), "the agent lives on (only the watchdog gets it restarted)");
            } finally {
                agent.process().destroyForcibly();
            }
        }
    }

    @Test
    void aHealthyHubUnderLoadKeepsFeedingTheWatchdog() throws Exception {
        try (NotifyReceiver systemd = new NotifyReceiver(dir.resolve("hub.notify").toString())) {
            // bound to the wildcard address: probed over loopback
            ChildJvm hub = systemd.start(Main.class, "--addr", "0.0.0.0:0");
            try {
                int port = hub.port(WAIT);
                String url = "http://127.0.0.1:" + port;
                systemd.await(m -> m.has("READY=1"), WAIT, "the hub's READY=1");
                awaitProbesAnswered(url, "http", "websocket", "grpc");

                long start = System.nanoTime();
                AtomicInteger tasks = new AtomicInteger();
                AtomicInteger requests = new AtomicInteger();
                Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
                List<Thread> clients = new ArrayList<>();
                long until = start + TimeUnit.SECONDS.toNanos(6);
                for (int i = 0; i < 16; i++) {
                    boolean streaming = i % 2 == 0;
                    clients.add(Thread.ofVirtual().start(() -> {
                        while (System.nanoTime() < until) {
                            try {
                                if (streaming) {
                                    String events = http.send(HttpRequest.newBuilder(URI.create(url + "/ping-task"))
                                            .POST(HttpRequest.BodyPublishers.ofString(
                                                    "{\"targets\":[\"127.0.0.1\"],\"count\":3,\"interval\":20}")).build(),
                                            HttpResponse.BodyHandlers.ofString()).body();
                                    assertTrue(events.contains("\"type\":\"end\""), events);
                                    tasks.incrementAndGet();
                                } else {
                                    assertEquals(200, get(url + (requests.get() % 2 == 0 ? "/conns" : "/metrics")).statusCode());
                                    requests.incrementAndGet();
                                }
                            } catch (IOException | AssertionError e) {
                                failures.add(e);
                                return;
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                        }
                    }));
                }
                for (Thread client : clients) {
                    client.join();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                assertEquals(List.of(), List.copyOf(failures), "every client served");
                assertTrue(tasks.get() >= 8 && requests.get() >= 80, tasks + " tasks, " + requests + " requests");
                long pings = systemd.count("WATCHDOG=1", start);
                // a ping every 500 ms (WATCHDOG_USEC is 1 s); a loaded machine may delay a few
                assertTrue(pings >= (long) (seconds * 2) - 3, pings + " pings in " + seconds + " s: " + systemd.messages());
                assertEquals(0, systemd.count("STATUS=unhealthy", 0), systemd.messages().toString());
                System.out.println("under load: " + tasks + " tasks, " + requests + " requests, " + pings
                        + " WATCHDOG=1 in " + seconds + " s");

                JsonNode live = JSON.readTree(get(url + "/health/live").body());
                assertEquals("UP", live.get("status").asText(), live.toString());
                for (String probe : List.of("http", "websocket", "grpc")) {
                    JsonNode check = live.get("checks").get(probe);
                    assertEquals("UP", check.get("status").asText(), live.toString());
                    assertTrue(check.get("detail").asText().matches(".* on 127\\.0\\.0\\.1:" + port
                            + " answered in \\d+\\.\\d ms"), check.toString());
                }
                String metrics = get(url + "/metrics").body();
                assertEquals("", Promtool.check(metrics));
                for (String probe : List.of("http", "websocket", "grpc")) {
                    assertTrue(metrics.contains("mimoping_listener_probe_up{probe=\"" + probe + "\"} 1\n"), metrics);
                    assertTrue(metrics.matches("(?s).*\nmimoping_listener_probe_seconds\\{probe=\"" + probe
                            + "\"} 0\\.\\d+\n.*"), metrics);
                }
                assertEquals(200, get(url + "/health/ready").statusCode());
            } finally {
                hub.process().destroyForcibly();
            }
        }
    }

    /**
     * Lowers the process's file descriptor limit to a few above what it has open, then connects to its listener
     * until the listener is gone (refused): accept() failed with EMFILE and Helidon stopped it.
     *
     * @return {@link System#nanoTime()} when the listener was found gone
     */
    private static long killListener(ChildJvm service, int port) throws Exception {
        long pid = service.process().pid();
        long open;
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            open = fds.count();
        }
        long limit = open + 16;
        Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(pid), "--nofile=" + limit + ":" + limit)
                .redirectErrorStream(true).start();
        String said = new String(prlimit.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, prlimit.waitFor(), "prlimit: " + said);
        List<Socket> held = new ArrayList<>();
        try {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                Socket socket = new Socket();
                try {
                    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
                    held.add(socket);
                } catch (ConnectException e) {
                    socket.close();
                    return System.nanoTime();
                } catch (SocketException e) {
                    socket.close(); // reset: the listener closed with this connection in its queue; refused next
                }
                if (held.size() > 10 * limit) {
                    break;
                }
            }
            return fail("the listener on port " + port + " still accepts after " + held.size()
                    + " connections with a limit of " + limit + " fds; its output:\n" + service.output());
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
    }

    /** No watchdog ping more than {@link #DETECTED_WITHIN} after the listener died, and none for 3 s now. */
    private static void assertWatchdogStopped(NotifyReceiver systemd, long dead) throws InterruptedException {
        long quiet = System.nanoTime();
        Thread.sleep(3_000);
        assertEquals(0, systemd.count("WATCHDOG=1", quiet), "no WATCHDOG=1 while a listener is dead: " + systemd.messages());
        long last = systemd.messages().stream().filter(m -> m.has("WATCHDOG=1")).mapToLong(NotifyReceiver.Message::at)
                .max().orElseThrow();
        assertTrue(last - dead < DETECTED_WITHIN.toNanos(), "the last WATCHDOG=1 came "
                + TimeUnit.NANOSECONDS.toMillis(last - dead) + " ms after the listener died");
        System.out.println("listener dead -> last WATCHDOG=1 after " + TimeUnit.NANOSECONDS.toMillis(last - dead) + " ms");
    }

    /** Waits until every named probe has been answered ({@code /health/live} says so). */
    private void awaitProbesAnswered(String url, String... probes) throws Exception {
        await(() -> {
            try {
                JsonNode checks = JSON.readTree(get(url + "/health/live").body()).get("checks");
                return Stream.of(probes).allMatch(probe -> checks.has(probe)
                        && checks.get(probe).get("detail").asText().contains(" answered in "));
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, () -> "probes " + List.of(probes) + " answered at " + url);
    }

    private static void await(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no " + what.get() + " within " + WAIT);
            }
            Thread.sleep(100);
        }
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
