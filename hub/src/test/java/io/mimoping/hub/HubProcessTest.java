package io.mimoping.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mimoping hub} as a process of its own (embedded mode): what its start and its SIGTERM do. */
class HubProcessTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final List<ChildJvm> started = new ArrayList<>();

    @AfterEach
    void stopHubs() throws InterruptedException {
        for (ChildJvm hub : started) {
            hub.kill();
        }
    }

    @Test
    void anAddressInUseIsAnErrorAndExitStatusOne() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String addr = "127.0.0.1:" + taken.getLocalPort();
            ChildJvm hub = start("--addr", addr);
            int status = hub.awaitExit(Duration.ofSeconds(60));
            String output = hub.output();
            assertEquals(1, status, output);
            assertTrue(output.contains("mimoping hub: cannot listen on " + addr + " (--addr): address already in use\n"),
                    output);
            assertFalse(output.contains("listening on"), output);
            assertFalse(output.contains("Exception"), "one clear line, no stack trace: " + output);
        }
    }

    @Test
    void sigtermEndsTheBackgroundTasksStreamsWithCancelledThenEnd() throws Exception {
        ChildJvm hub = start("--addr", "127.0.0.1:0");
        String base = "http://127.0.0.1:" + hub.port(Duration.ofSeconds(60));
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
            hub.process().destroy(); // SIGTERM
            read.get(30, TimeUnit.SECONDS);
            assertTrue(hub.process().waitFor(30, TimeUnit.SECONDS), "the hub stopped");
            List<String> types = types(events);
            assertEquals("end", types.getLast(), "the stream ends with its end event: " + types);
            JsonNode error = events.get(events.size() - 2);
            assertEquals("error", types.get(types.size() - 2), types.toString());
            assertEquals("cancelled", error.get("data").get("code").asText(), error.toString());
            assertTrue(error.get("data").get("message").asText().contains("the hub is stopping"), error.toString());
        }
    }

    private ChildJvm start(String... args) {
        ChildJvm hub = ChildJvm.start(Main.class, args);
        started.add(hub);
        return hub;
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
