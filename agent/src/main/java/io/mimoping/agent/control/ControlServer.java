package io.mimoping.agent.control;

import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthProto;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcReflectionFeature;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.http.HttpRouting;
import io.mimoping.proto.v1.AgentControlGrpc;
import io.mimoping.proto.v1.ControlProto;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The agent's control server, on one port: gRPC {@code mimoping.v1.AgentControl}, the standard
 * {@code grpc.health.v1.Health} service, server reflection (v1 and v1alpha, as grpcurl tries both), and
 * whatever HTTP routes are added through {@link Builder#routing}. A Helidon SE web server on virtual threads;
 * its gRPC request messages are checked by {@link GrpcGuard}.
 */
public final class ControlServer implements AutoCloseable {

    private final WebServer server;
    private final HealthStatusManager health;
    private final String host;

    private ControlServer(WebServer server, HealthStatusManager health, String host) {
        this.server = server;
        this.health = health;
        this.host = host;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The port it listens on (the one chosen by the kernel when asked for port 0). */
    public int port() {
        return server.port();
    }

    /** {@code host:port} as the agent announces it ({@code [v6]:port} for IPv6 literals). */
    public String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    /** Tells health checkers the agent is stopping, then stops serving. */
    @Override
    public void close() {
        health.enterTerminalState();
        server.stop();
    }

    public static final class Builder {

        private String host = "127.0.0.1";
        private int port;
        private CapabilityDetector detector;
        private final List<Consumer<HttpRouting.Builder>> routing = new ArrayList<>();

        private Builder() {
        }

        /** The address to listen on (default 127.0.0.1). */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port to listen on; 0 (the default) lets the kernel choose. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** What answers {@code GetCapabilities}. */
        public Builder capabilities(CapabilityDetector detector) {
            this.detector = Objects.requireNonNull(detector, "detector");
            return this;
        }

        /** Adds HTTP routes served on the same port (such as {@code /metrics} or {@code /health}). */
        public Builder routing(Consumer<HttpRouting.Builder> routes) {
            routing.add(Objects.requireNonNull(routes, "routes"));
            return this;
        }

        /**
         * Binds and starts serving.
         *
         * @throws IllegalStateException if it cannot listen on its address; the message says why
         */
        public ControlServer start() {
            Objects.requireNonNull(detector, "capabilities(detector) is required");
            HealthStatusManager health = new HealthStatusManager();
            health.setStatus(AgentControlGrpc.SERVICE_NAME, HealthCheckResponse.ServingStatus.SERVING);
            GrpcRouting.Builder grpc = GrpcRouting.builder()
                    .service(ControlProto.getDescriptor(), new ControlService(detector))
                    .service(HealthProto.getDescriptor(), health.getHealthService());
            WebServerConfig.Builder server = WebServer.builder()
                    .host(host).port(port)
                    .shutdownHook(false)
                    .routing(http -> routing.forEach(routes -> routes.accept(http)))
                    .addRouting(grpc)
                    .addFeature(GrpcReflectionFeature.builder().enabled(true).build());
            GrpcGuard.install(server, grpc);
            return new ControlServer(ServerStart.start(server.build(), host, port), health, host);
        }
    }
}
