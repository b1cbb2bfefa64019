package io.mimoping.hub.ws;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A hub in embedded mode on a real socket, wired by {@link Main#setup}, with a short heartbeat. */
final class TestHub implements AutoCloseable {

    final AgentRegistry registry;
    final WebServer server;

    TestHub(ProbeEngine engine, String hubId, Duration heartbeat, String token, int port) {
        registry = new AgentRegistry(hubId, heartbeat, heartbeat.multipliedBy(3), token);
        WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(port);
        Main.setup(builder, new HubSetup(engine, registry));
        server = builder.build().start();
    }

    int port() {
        return server.port();
    }

    URI ws() {
        return URI.create("ws://127.0.0.1:" + server.port() + AgentEndpoint.PATH);
    }

    /** The body of {@code GET /conns}. */
    String conns() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/conns")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new AssertionError("GET /conns answered " + response.statusCode() + ": " + response.body());
            }
            return response.body();
        }
    }

    @Override
    public void close() {
        server.stop();
        registry.close();
    }
}
