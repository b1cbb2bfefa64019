package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.mimoping.hub.stream.StreamLimits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code max-tasks} over HTTP: the task beyond it is refused with 429 {@code too_many_tasks}. */
@ServerTest
@Timeout(60)
class TaskBudgetTest {

    private static final String BUSY = "{\"targets\":[\"127.0.0.1\"],\"count\":600,\"interval\":100}";
    private static final EmbeddedHub HUB = new EmbeddedHub();

    private final StreamClients clients;

    TaskBudgetTest(WebServer server) {
        this.clients = new StreamClients(server.port());
    }

    @SetUpServer
    static void server(WebServerConfig.Builder builder) {
        HUB.setup(builder, StreamLimits.DEFAULTS.withBudget(1, StreamLimits.DEFAULTS.retainTotalBytes()));
    }

    @AfterAll
    static void close() {
        HUB.close();
    }

    @Test
    void theTaskBeyondMaxTasksIsRefusedUntilOneEnds() {
        String running = clients.start(BUSY);
        HttpResponse<String> refused = clients.send("POST", "/tasks", BUSY, "Content-Type", "application/json");
        assertEquals(429, refused.statusCode(), refused.body());
        JsonNode error = StreamClients.json(refused.body()).get("error");
        assertEquals("too_many_tasks", error.get("code").asText());
        assertTrue(error.get("field").isNull(), refused.body());
        assertTrue(error.get("message").asText().contains("max-tasks"), refused.body());
        assertEquals(200, clients.send("DELETE", "/tasks/" + running, null).statusCode());
        clients.send("DELETE", "/tasks/" + clients.start(BUSY), null);
        clients.close();
    }
}
