package io.mimoping.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mimoping hub} as a process of its own (embedded mode): what its start and its SIGTERM do. */
class HubProcessTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopHubs() throws InterruptedException {
        for (Process hub : started) {
            hub.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anAddressInUseIsAnErrorAndExitStatusOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String addr = "127.0.0.1:" + taken.getLocalPort();
            Process hub = start("--addr", addr);
            String output = new String(hub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(hub.waitFor(60, TimeUnit.SECONDS), output);
            assertEquals(1, hub.exitValue(), output);
            assertTrue(output.contains("mimoping hub: cannot listen on " + addr + " (--addr): address already in use\n"),
                    output);
            assertFalse(output.contains("listening on"), output);
            assertFalse(output.contains("Exception"), "one clear line, no stack trace: " + output);
        }
    }

    @Test
    void sigtermEndsTheBackgroundTasksStreamsWithCancelledThenEnd() throws Exception {
        Process hub = start("--addr", "127.0.0.1:0");
        BufferedReader lines = new BufferedReader(new InputStreamReader(hub.getInputStream(), StandardCharsets.UTF_8));
        String base = "http://127.0.0.1:" + port(lines);
        Thread.ofVirtual().start(() -> lines.lines().forEach(line -> { })); // keep the hub's output flowing
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"targets\":[\"127.0.0.1\"],\"count\":1000,\"interval\":100}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            String id = JSON.readTree(created.body()).get("id").asText();
            HttpResponse<Stream<String>> sse = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks/" + id + "/events"))
                    .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, sse.statusCode());
            Iterator<String> stream = sse.body().iterator();
            List<JsonNode> events = new ArrayList<>();
            CompletableFuture<Void> read = CompletableFuture.runAsync(() -> stream.forEachRemaining(line -> {
                if (line.startsWith("data: ")) {
                    synchronized (events) {
                        events.add(json(line.substring(6)));
                    }
                }
            }));
            while (types(events).stream().filter("pkt_recv"::equals).count() < 2) {
                Thread.sleep(20);
            }
            hub.destroy(); // SIGTERM
            read.get(30, TimeUnit.SECONDS);
            assertTrue(hub.waitFor(30, TimeUnit.SECONDS), "the hub stopped");
            List<String> types = types(events);
            assertEquals("end", types.getLast(), "the stream ends with its end event: " + types);
            JsonNode error = events.get(events.size() - 2);
            assertEquals("error", types.get(types.size() - 2), types.toString());
            assertEquals("cancelled", error.get("data").get("code").asText(), error.toString());
            assertTrue(error.get("data").get("message").asText().contains("the hub is stopping"), error.toString());
        }
    }

    private Process start(String... args) throws IOException {
        Process process = new ProcessBuilder(HubProcess.command(List.of(), args)).redirectErrorStream(true).start();
        started.add(process);
        return process;
    }

    /** The port of the hub's "listening on" line. */
    private static int port(BufferedReader lines) throws IOException {
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null) {
            seen.append(line).append('\n');
            Matcher listening = LISTENING.matcher(line);
            if (listening.find()) {
                return Integer.parseInt(listening.group(1));
            }
        }
        throw new AssertionError("the hub never said where it listens:\n" + seen);
    }

    private static List<String> types(List<JsonNode> events) {
        synchronized (events) {
            return events.stream().map(e -> e.get("type").asText()).toList();
        }
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }
}
