package io.mimoping.hub.bench;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.ws.AgentRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's own client against a real hub: it must read the chunked stream exactly as it was written. */
@ServerTest
class StreamingPostTest {

    private static IcmpEngine engine;
    private static AgentRegistry agents;

    private final WebServer server;

    StreamingPostTest(WebServer server) {
        this.server = server;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder builder) {
        engine = IcmpEngine.open();
        agents = new AgentRegistry("hub-test", Duration.ofSeconds(5), Duration.ofSeconds(15), null);
        Main.setup(builder, new HubSetup(engine, agents));
    }

    @AfterAll
    static void close() {
        agents.close();
        engine.close();
    }

    @Test
    void readsEveryLineOfATaskStreamInOrder() throws IOException {
        List<String> types = new ArrayList<>();
        try (StreamingPost post = new StreamingPost(server.port(), "/ping-task",
                "{\"targets\":[\"127.0.0.1\"],\"count\":3,\"interval\":20}")) {
            for (String line = post.readLine(); line != null; line = post.readLine()) {
                if (!line.isBlank()) {
                    types.add(line.substring(line.indexOf(":\"") + 2, line.indexOf("\",")));
                }
            }
        }
        assertEquals(List.of("task", "pkt_recv", "pkt_recv", "pkt_recv", "ping_stats", "end"), types);
    }

    @Test
    void aRefusedTaskIsAnErrorNamingTheStatus() {
        IOException refused = assertThrows(IOException.class,
                () -> new StreamingPost(server.port(), "/ping-task", "{\"targets\":[],\"count\":3}").close());
        assertTrue(refused.getMessage().contains("400"), refused.getMessage());
    }
}
