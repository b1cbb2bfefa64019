package io.mimoping.hub.guard;

import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.hub.ChildJvm;
import io.mimoping.hub.Main;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attack of issue 13 that stopped Helidon's listener for good: more connections than the process has file
 * descriptors, each sending a request line and holding. The hub runs as a process of its own under
 * {@code prlimit --nofile=512:512}; its listener cap (sized from that limit) refuses what it cannot hold, a
 * task stream started before the attack flows through it, and the hub serves again as soon as the attacker
 * lets go.
 */
class FdExhaustionTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int FD_LIMIT = 512;
    private static final int ATTACK = 1_000;

    /** A line of a stream and when it came. */
    private record Line(long atNanos, String text) {
    }

    @Test
    void aFloodBeyondTheFdLimitIsRefusedWhileAStreamFlowsAndTheHubServesAtOnceAfterIt() throws Exception {
        // no per-client cap: the flood comes from one address and must meet the listener's own cap
        try (ChildJvm hub = ChildJvm.start(List.of("prlimit", "--nofile=" + FD_LIMIT + ":" + FD_LIMIT, "--"), Main.class,
                Map.of(), List.of("--addr", "127.0.0.1:0", "--max-connections-per-client", "0", "--header-timeout", "120000"));
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            int port = hub.port(WAIT);
            String banner = hub.awaitLine("connections: at most", WAIT).text();
            Matcher sized = Pattern.compile("at most (\\d+) at once \\(file descriptor limit " + FD_LIMIT + ", (\\d+) open")
                    .matcher(banner);
            assertTrue(sized.find(), banner);
            int cap = Integer.parseInt(sized.group(1));
            assertEquals((FD_LIMIT - Integer.parseInt(sized.group(2)) - FdBudget.RESERVE) * 3 / 4, cap, banner);

            // the canary: a task streamed to its client, 40 replies 250 ms apart, started before the flood
            List<Line> canary = new ArrayList<>();
            CompletableFuture<Void> canaryRead = CompletableFuture.runAsync(() -> {
                try {
                    http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ping-task"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"targets\":[\"127.0.0.1\"],\"count\":40,\"interval\":250}"))
                            .build(), HttpResponse.BodyHandlers.ofLines()).body().filter(line -> !line.isBlank())
                            .forEach(line -> {
                                synchronized (canary) {
                                    canary.add(new Line(System.nanoTime(), line));
                                }
                            });
                } catch (IOException | InterruptedException e) {
                    throw new AssertionError("the canary stream broke", e);
                }
            });
            awaitLines(canary, 2);

            RawClients attacker = new RawClients("127.0.0.1", port);
            long attackStart = System.nanoTime();
            int connected = 0;
            for (int i = 0; i < ATTACK; i++) {
                try {
                    attacker.open("127.0.0.1", "GET /health/ready HTTP/1.1\r\n");
                    connected++;
                } catch (IOException e) {
                    // refused ones may be reset before the request line is out
                }
            }
            assertTrue(connected > FD_LIMIT, "the flood reached the hub: " + connected + " connections");
            String probe = attacker.get("127.0.0.1", "/health/ready");
            assertFalse(probe.startsWith("HTTP/"), "a new request from the attack's side is refused: " + probe);
            int linesBefore = awaitLines(canary, 0);
            // the flood holds while the canary goes on: 20 more replies (5 s), longer than the hub's listener probes
            // take to withhold the watchdog (3 failures a second apart) if the caps refused them too
            awaitLines(canary, linesBefore + 20);
            assertTrue(hub.process().isAlive(), hub.output());

            attacker.close();
            long released = System.nanoTime();
            String answer = attacker.get("127.0.0.1", "/health/ready");
            while (!answer.startsWith("HTTP/1.1 200") && System.nanoTime() - released < WAIT.toNanos()) {
                Thread.sleep(20);
                answer = attacker.get("127.0.0.1", "/health/ready");
            }
            long recoveredMs = (System.nanoTime() - released) / 1_000_000;
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            assertTrue(recoveredMs < 1_000, "served again " + recoveredMs + " ms after the attacker let go");

            canaryRead.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            List<String> types = new ArrayList<>();
            long longestGapMs = 0;
            for (int i = 0; i < canary.size(); i++) {
                types.add(JSON.readTree(canary.get(i).text()).get("type").asText());
                if (i > 0 && canary.get(i).atNanos() > attackStart) {
                    longestGapMs = Math.max(longestGapMs, (canary.get(i).atNanos() - canary.get(i - 1).atNanos()) / 1_000_000);
                }
            }
            assertEquals("end", types.getLast(), types.toString());
            assertEquals(40, types.stream().filter("pkt_recv"::equals).count(), "every reply reached the canary: " + types);
            assertTrue(longestGapMs < 3_000, "the canary's longest silence during the flood: " + longestGapMs + " ms (250 ms apart)");

            String metrics = attacker.get("127.0.0.1", "/metrics");
            long refusedFull = metric(metrics, "mimoping_connections_refused_total{reason=\"listener_full\"}");
            assertTrue(refusedFull >= connected - cap, refusedFull + " refused of " + connected + " for a cap of " + cap);
            assertEquals(cap, metric(metrics, "mimoping_connections_limit{scope=\"listener\"}"));
            assertEquals(FD_LIMIT, metric(metrics, "process_max_fds"));
            String refusedLine = hub.awaitLine("ConnectionGuard: refused", Duration.ofSeconds(20)).text();
            assertTrue(refusedLine.matches(".*refused \\d+ connection\\(s\\) in the last 10 s: \\d+ the listener at its cap of "
                    + cap + ".*"), refusedLine);
            System.out.println("flood of " + connected + " connections at a cap of " + cap + ": " + refusedFull
                    + " refused; the canary's longest silence " + longestGapMs + " ms; served again after " + recoveredMs + " ms");
            String output = hub.output();
            assertFalse(output.contains("terminating now"), output);
            assertFalse(output.contains("Too many open files"), output);
            assertFalse(output.contains("withholding the systemd watchdog ping"),
                    "the hub's own listener probes were admitted beyond the caps: " + output);
            assertFalse(output.contains("SEVERE"), output);
            assertTrue(hub.process().isAlive());
        }
    }

    /** Waits until the canary has at least {@code count} lines; returns how many it has. */
    private static int awaitLines(List<Line> lines, int count) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            synchronized (lines) {
                if (lines.size() >= count) {
                    return lines.size();
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the canary stream stalled at " + lines.size() + " lines, waiting for " + count);
            }
            Thread.sleep(10);
        }
    }

    private static long metric(String scrape, String series) {
        Matcher value = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        assertTrue(value.find(), series + " in:\n" + scrape);
        return (long) Double.parseDouble(value.group(1));
    }
}
