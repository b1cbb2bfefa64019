package io.mimoping.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.hub.ws.AgentRegistry;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.RunTaskRequest;
import io.mimoping.proto.v1.TaskEvent;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hub that stops (SIGTERM, {@code systemctl stop}) ends every stream it serves with an explicit error and its
 * {@code end}, and closes it cleanly: a client never sees a stream merely cut off. What comes while it stops is
 * cancelled at once, or refused.
 */
@Timeout(60)
class HubStopTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A minute of probes: only the stop can end it while the test runs. */
    private static final String LONG_TASK = "{\"targets\":[\"127.0.0.1\"],\"count\":600,\"interval\":100}";

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();
    @AutoClose
    private final AgentRegistry agents = new AgentRegistry("hub-stop-test", Duration.ofSeconds(5),
            Duration.ofSeconds(15), null);
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void stoppingEndsEveryStreamedTaskWithACancelledErrorAndItsEnd() throws Exception {
        WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(0);
        HubTasks tasks = Main.setup(builder, new HubSetup(engine, agents));
        WebServer server = builder.build().start();
        ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + server.port(),
                InsecureChannelCredentials.create()).build();
        try {
            BufferedReader ndjson = post(server, LONG_TASK);
            assertEquals("task", type(ndjson.readLine()));
            assertEquals("pkt_recv", type(ndjson.readLine()));
            Iterator<TaskEvent> grpc = HubGrpc.newBlockingStub(channel).runTask(RunTaskRequest.newBuilder()
                    .addTargets("127.0.0.1").setCount(600).setInterval(100).build());
            assertEquals("task", grpc.next().getType());

            tasks.stop();

            List<JsonNode> rest = new ArrayList<>();
            for (String line = ndjson.readLine(); line != null; line = ndjson.readLine()) {
                if (!line.isBlank()) {
                    rest.add(JSON.readTree(line));
                }
            }
            // read to a clean end of the body: the chunked response was completed, not cut
            assertTrue(rest.size() >= 2, "events after the stop: " + rest);
            JsonNode error = rest.get(rest.size() - 2);
            assertEquals("error", error.get("type").asText(), rest.toString());
            assertEquals("cancelled", error.get("data").get("code").asText());
            assertEquals("the hub is stopping", error.get("data").get("message").asText());
            JsonNode end = rest.getLast();
            assertEquals("end", end.get("type").asText(), rest.toString());
            assertTrue(end.get("data").get("sent").asLong() < 600, end.toString());
            // before them, what the target measured until the stop: the engine sums it up as it would at its end
            JsonNode stats = rest.get(rest.size() - 3);
            assertEquals("ping_stats", stats.get("type").asText(), rest.toString());
            assertEquals(end.get("data").get("sent").asLong(), stats.get("data").get("packets_sent").asLong(),
                    stats + " / " + end);
            assertTrue(stats.get("data").get("packets_recv").asLong() >= 1, stats.toString());

            List<TaskEvent> grpcRest = new ArrayList<>();
            grpc.forEachRemaining(grpcRest::add); // ends with the call's OK status, or throws
            assertTrue(grpcRest.size() >= 2, "gRPC events after the stop: " + grpcRest);
            TaskEvent grpcError = grpcRest.get(grpcRest.size() - 2);
            assertEquals("error", grpcError.getType(), grpcRest.toString());
            assertEquals("cancelled", grpcError.getError().getError().getCode());
            assertEquals("the hub is stopping", grpcError.getError().getError().getMessage());
            assertEquals("end", grpcRest.getLast().getType());

            // A task that comes while the server still listens is cancelled at once.
            BufferedReader late = post(server, LONG_TASK);
            List<String> types = new ArrayList<>();
            for (String line = late.readLine(); line != null; line = late.readLine()) {
                if (!line.isBlank()) {
                    types.add(type(line));
                }
            }
            assertEquals("task", types.getFirst(), types.toString());
            assertEquals(List.of("error", "end"), types.subList(types.size() - 2, types.size()), types.toString());
            // at most the probe that left before the cancel, and then what it measured
            assertTrue(types.stream().filter(type -> type.startsWith("pkt_")).count() <= 1,
                    "a cancelled task sends no more than a probe or so: " + types);
            assertTrue(types.size() <= 5, types.toString());
            // and a background task is refused
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.port() + "/tasks"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(LONG_TASK))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("hub_stopping", JSON.readTree(refused.body()).get("error").get("code").asText());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.stop();
        }
    }

    private BufferedReader post(WebServer server, String body) throws Exception {
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/ping-task"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        return new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    private static String type(String line) throws Exception {
        return JSON.readTree(line).get("type").asText();
    }
}
