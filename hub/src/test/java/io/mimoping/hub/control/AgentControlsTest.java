package io.mimoping.hub.control;

import io.mimoping.agent.control.CapabilityDetector;
import io.mimoping.agent.control.ControlServer;
import io.mimoping.agent.process.AgentVersion;
import io.mimoping.agent.process.HubLink;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.hub.ws.AgentRegistry;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Registration-time detection when the control channel is missing or silent: the agent is listed with the reason. */
class AgentControlsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void anAgentWhoseControlChannelDoesNotAnswerIsListedWithTheReason() throws Exception {
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort(); // closed again: nothing listens there
        }
        AgentRegistry registry = new AgentRegistry("hub-test", Duration.ofSeconds(1), Duration.ofSeconds(3), null);
        try (IcmpEngine engine = IcmpEngine.open(1)) {
            WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(0);
            Main.setup(builder, new HubSetup(engine, registry));
            WebServer server = builder.build().start();
            try (HubLink silent = link(server, "silent", "127.0.0.1:" + deadPort);
                 HubLink none = link(server, "none", null)) {
                silent.start();
                none.start();
                JsonNode silentConn = awaitSettled(server, "silent");
                assertTrue(silentConn.get("capabilities").isNull(), silentConn.toString());
                String reason = silentConn.get("capabilities_error").asText();
                assertTrue(reason.startsWith("the control channel at 127.0.0.1:" + deadPort + " did not answer (UNAVAILABLE"),
                        reason);
                assertTrue(reason.endsWith("(" + AgentControls.ATTEMPTS + " attempts)"), reason);
                assertEquals("the agent announced no control channel",
                        awaitSettled(server, "none").get("capabilities_error").asText());
            } finally {
                server.stop();
            }
        } finally {
            registry.close();
        }
    }

    @Test
    void capabilitiesAnsweredByAnotherAgentAreNotTakenForTheAgents() throws Exception {
        AgentRegistry registry = new AgentRegistry("hub-test", Duration.ofSeconds(1), Duration.ofSeconds(3), null);
        try (IcmpEngine engine = IcmpEngine.open(1);
             ControlServer other = ControlServer.builder()
                     .capabilities(new CapabilityDetector("other", AgentVersion.current(), Map.of(), engine, "Linux test",
                             Instant.now(), Clock.systemUTC()))
                     .start()) {
            WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(0);
            Main.setup(builder, new HubSetup(engine, registry));
            WebServer server = builder.build().start();
            try (HubLink impostor = link(server, "impostor", other.address())) {
                impostor.start();
                JsonNode conn = awaitSettled(server, "impostor");
                assertTrue(conn.get("capabilities").isNull(), conn.toString());
                String mismatch = "the control channel at " + other.address() + " answered as agent 'other', not as "
                        + "'impostor'; set control-addr of 'impostor' to an address where it listens and the hub can reach";
                assertEquals(mismatch, conn.get("capabilities_error").asText());
                AgentControls controls = AgentControls.watch(registry);
                assertEquals("agent 'impostor': " + mismatch,
                        assertThrows(IllegalStateException.class, () -> controls.ask("impostor")).getMessage(),
                        "asked again (GetAgentCapabilities), the same answer is refused");
            } finally {
                server.stop();
            }
        } finally {
            registry.close();
        }
    }

    private static HubLink link(WebServer server, String name, String control) {
        return new HubLink(URI.create("ws://127.0.0.1:" + server.port() + "/ws"),
                new HubLink.Registration(name, AgentVersion.current(), Map.of(), control, null), new HubLink.Listener() {
            @Override
            public void onRegistered(String hubId) {
            }

            @Override
            public void onRefused(int code, String reason) {
            }

            @Override
            public void onDisconnected(String reason) {
            }
        });
    }

    /** The agent's entry in GET /conns once the hub is done asking its control channel. */
    private static JsonNode awaitSettled(WebServer server, String name) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        try (HttpClient http = HttpClient.newHttpClient()) {
            while (System.nanoTime() < deadline) {
                String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/conns"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                for (JsonNode conn : JSON.readTree(body)) {
                    if (conn.get("name").asText().equals(name)
                            && !conn.get("capabilities_error").asText().startsWith("asking")) {
                        return conn;
                    }
                }
                Thread.sleep(20);
            }
        }
        fail("agent " + name + " never settled");
        return null;
    }
}
