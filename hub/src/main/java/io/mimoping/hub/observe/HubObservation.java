package io.mimoping.hub.observe;

import io.helidon.webserver.http.HttpRouting;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.observe.BrokerObserver;
import io.mimoping.agent.observe.Health;
import io.mimoping.agent.observe.HealthService;
import io.mimoping.agent.observe.ListenerProbes;
import io.mimoping.agent.observe.Metrics;
import io.mimoping.agent.observe.MetricsService;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.hub.dispatch.Dispatcher;
import io.mimoping.hub.ws.AgentEndpoint;
import io.mimoping.hub.ws.AgentRegistry;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.ListAgentsRequest;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The hub as an operator sees it: {@code /metrics} (the engine's, the agents', the client streams', the
 * broker's, the listener probes'), {@code /health/live} and {@code /health/ready}, and the same checks for the
 * systemd watchdog and status line. Live: the engine's threads run, the hub's listener answers its probes (HTTP,
 * the agents' WebSocket upgrade, gRPC: {@link ListenerProbes}), and in distributed mode the broker connection is
 * not given up; ready, besides: the broker connected.
 */
public final class HubObservation implements AutoCloseable {

    private final Metrics metrics;
    private final IcmpEngine engine;
    private final AgentRegistry agents;
    private final BrokerObserver broker;
    private final ClientStreams clients = new ClientStreams();
    private final Supplier<Integer> remoteRuns;
    private final ListenerProbes probes;
    /** The port served, once {@link #serving} said it. */
    private volatile int port = -1;

    /**
     * @param dispatcher the task fan-out to agents, {@code null} in embedded mode
     * @param broker     the broker connection, {@code null} in embedded mode
     */
    public HubObservation(Metrics metrics, IcmpEngine engine, AgentRegistry agents, Dispatcher dispatcher, Broker broker) {
        this.metrics = metrics;
        this.engine = engine;
        this.agents = agents;
        metrics.gauge("mimoping_agents_connected", "Agents registered with this hub over /ws now", () -> agents.list().size());
        clients.register(metrics);
        remoteRuns = dispatcher == null ? () -> 0 : dispatcher::running;
        metrics.gauge("mimoping_agent_runs", "(task, agent) runs in progress on agents", () -> remoteRuns.get());
        this.broker = broker == null ? null : new BrokerObserver(broker, dispatcher::publishCounts, metrics);
        probes = new ListenerProbes(List.of(
                new ListenerProbes.Probe.Http("http", "/health/live"),
                new ListenerProbes.Probe.WebSocket("websocket", AgentEndpoint.PATH),
                new ListenerProbes.Probe.Grpc("grpc", HubGrpc.getListAgentsMethod().getFullMethodName(),
                        channel -> HubGrpc.newBlockingStub(channel).listAgents(ListAgentsRequest.getDefaultInstance()))),
                metrics);
    }

    /** Whether a connection from {@code clientSide} is one of the listener's probes, open now. */
    public boolean isOwnProbe(SocketAddress clientSide) {
        return probes.isOwn(clientSide);
    }

    /** The hub serves on {@code host:port} now: its listener's probes start. */
    public void serving(String host, int port) {
        this.port = port;
        probes.start(host, port);
    }

    /** Adds {@code /metrics} and {@code /health/*} to the hub's routing. */
    public void routing(HttpRouting.Builder routing) {
        routing.register(new MetricsService(metrics), new HealthService(this::health));
    }

    /** The hub's health, for {@code /health/*} and systemd. */
    public Health health() {
        List<Health.Check> liveness = new ArrayList<>();
        List<Health.Check> readiness = new ArrayList<>();
        boolean engineUp = engine.alive();
        liveness.add(new Health.Check("engine", engineUp, engineUp ? "engine threads running" : "an engine thread stopped"));
        // not the server's isRunning(): it stays true when Helidon's listener has stopped accepting for good
        liveness.addAll(probes.checks());
        String mode = "embedded mode";
        if (broker != null) {
            Health.Check connected = broker.readiness();
            liveness.add(broker.liveness());
            readiness.add(connected);
            mode = connected.ok() ? "RabbitMQ connected" : "RabbitMQ reconnecting";
        }
        int served = port;
        String status = "serving" + (served < 0 ? "" : " on port " + served) + "; " + agents.list().size()
                + " agent(s); " + clients.count() + " client stream(s); " + mode;
        return new Health(liveness, readiness, status);
    }

    /** Client streams open now. */
    public int streams() {
        return clients.count();
    }

    /** The client streams' counts, for the transports ({@link io.mimoping.hub.HubSetup#clients()}). */
    public ClientStreams clients() {
        return clients;
    }

    /** Stops the listener's probes: before the server stops, which they would report. */
    @Override
    public void close() {
        probes.close();
    }
}
