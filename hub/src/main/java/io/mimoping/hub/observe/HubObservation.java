package io.mimoping.hub.observe;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.observe.BrokerObserver;
import io.mimoping.agent.observe.Health;
import io.mimoping.agent.observe.HealthService;
import io.mimoping.agent.observe.Metrics;
import io.mimoping.agent.observe.MetricsService;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.hub.dispatch.Dispatcher;
import io.mimoping.hub.ws.AgentRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The hub as an operator sees it: {@code /metrics} (the engine's, the agents', the client streams', the
 * broker's), {@code /health/live} and {@code /health/ready} (ready: serving, and in distributed mode the
 * broker connected), and the same checks for the systemd watchdog and status line.
 */
public final class HubObservation {

    private final Metrics metrics;
    private final IcmpEngine engine;
    private final AgentRegistry agents;
    private final BrokerObserver broker;
    private final ClientStreams clients = new ClientStreams();
    private final Supplier<Integer> remoteRuns;

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
    }

    /** Adds {@code /metrics} and {@code /health/*} to the hub's routing. */
    public void routing(HttpRouting.Builder routing) {
        routing.register(new MetricsService(metrics), new HealthService(() -> health(null)));
    }

    /** The hub's health; {@code server} (when given) must be running for the hub to be live. */
    public Health health(WebServer server) {
        List<Health.Check> liveness = new ArrayList<>();
        List<Health.Check> readiness = new ArrayList<>();
        boolean engineUp = engine.alive();
        liveness.add(new Health.Check("engine", engineUp, engineUp ? "engine threads running" : "an engine thread stopped"));
        if (server != null) {
            liveness.add(new Health.Check("server", server.isRunning(), server.isRunning() ? "serving" : "stopped"));
        }
        String mode = "embedded mode";
        if (broker != null) {
            Health.Check connected = broker.readiness();
            liveness.add(broker.liveness());
            readiness.add(connected);
            mode = connected.ok() ? "RabbitMQ connected" : "RabbitMQ reconnecting";
        }
        String status = "serving" + (server == null ? "" : " on port " + server.port()) + "; " + agents.list().size()
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
}
