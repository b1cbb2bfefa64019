package io.mimoping.agent.control;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.proto.v1.AgentControlGrpc;
import io.mimoping.proto.v1.Capabilities;
import io.mimoping.proto.v1.GetCapabilitiesRequest;
import io.mimoping.proto.v1.SocketKind;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The control server on a real port: gRPC capabilities and health, and extra HTTP routes on the same port. */
class ControlServerTest {

    @Test
    void servesCapabilitiesHealthAndExtraHttpRoutesOnOnePort() throws Exception {
        Instant started = Instant.now().minusSeconds(5);
        try (IcmpEngine engine = IcmpEngine.open(1);
             ControlServer server = ControlServer.builder()
                     .capabilities(new CapabilityDetector("a1", "9.9", Map.of("site", "lab"), engine, "Linux test",
                             started, Clock.systemUTC()))
                     .routing(http -> http.get("/extra", (req, res) -> res.send("extra route")))
                     .start()) {
            assertTrue(server.address().startsWith("127.0.0.1:"), server.address());
            assertTrue(server.port() > 0);
            ManagedChannel channel = Grpc.newChannelBuilder(server.address(), InsecureChannelCredentials.create()).build();
            try {
                Capabilities capabilities = AgentControlGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
                assertEquals("a1", capabilities.getAgent());
                assertEquals("9.9", capabilities.getVersion());
                assertEquals("Linux test", capabilities.getKernel());
                assertEquals(Map.of("site", "lab"), capabilities.getLabelsMap());
                assertTrue(capabilities.getUptime().getSeconds() >= 5, capabilities.getUptime().toString());
                assertEquals(engine.mode(IcmpFamily.V4).isPresent() ? SocketKind.SOCKET_KIND_RAW : SocketKind.SOCKET_KIND_NONE,
                        capabilities.getIpv4().getEngineSocket(), "as the engine sends (root: raw)");
                assertEquals(engine.maxRate(), capabilities.getLimits().getMaxRate());
                assertEquals(1, capabilities.getLimits().getShards());

                HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder().setService(AgentControlGrpc.SERVICE_NAME).build());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> extra = http.send(HttpRequest.newBuilder(URI.create("http://" + server.address() + "/extra"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, extra.statusCode());
                assertEquals("extra route", extra.body());
            }
        }
    }

    @Test
    void aPortInUseIsAnErrorNamingWhy() throws Exception {
        try (IcmpEngine engine = IcmpEngine.open(1);
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ControlServer.Builder builder = ControlServer.builder().port(taken.getLocalPort())
                    .capabilities(new CapabilityDetector("a1", "9.9", Map.of(), engine, "Linux test", Instant.now(),
                            Clock.systemUTC()));
            assertEquals("address already in use", assertThrows(IllegalStateException.class, builder::start).getMessage());
        }
    }
}
