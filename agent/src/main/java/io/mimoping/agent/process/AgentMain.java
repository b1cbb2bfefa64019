package io.mimoping.agent.process;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.mimoping.agent.config.LogFormat;
import io.mimoping.agent.control.CapabilityDetector;
import io.mimoping.agent.control.ControlServer;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.observe.BrokerObserver;
import io.mimoping.agent.observe.EngineMetrics;
import io.mimoping.agent.observe.HangUpFilter;
import io.mimoping.agent.observe.Health;
import io.mimoping.agent.observe.HealthService;
import io.mimoping.agent.observe.JsonLogFormatter;
import io.mimoping.agent.observe.ListenerProbes;
import io.mimoping.agent.observe.Metrics;
import io.mimoping.agent.observe.MetricsService;
import io.mimoping.agent.systemd.ServiceLoop;
import io.mimoping.agent.systemd.ServiceNotifier;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.BrokerException;
import io.mimoping.bridge.control.AgentCapabilities;
import io.mimoping.proto.v1.AgentControlGrpc;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * {@code mimoping agent}: registers with a hub over WebSocket, takes tasks from its queue on the broker,
 * pings, and reports back; serves its gRPC control channel (capabilities, health, reflection), {@code /metrics}
 * and {@code /health/*} on its control address, and keeps systemd informed. Wires the parts and nothing else.
 *
 * <p>Stopping (SIGTERM, or {@link #close()}) takes no new task, stops the engine so that every task in
 * flight ends with an {@code engine_stopped} error, waits until RabbitMQ confirmed the last reports, then
 * says goodbye to the hub.
 */
public final class AgentMain implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentMain.class.getName());
    /** The kernel this process runs on, as the control channel reports it. */
    private static final String KERNEL = System.getProperty("os.name") + " " + System.getProperty("os.version")
            + " " + System.getProperty("os.arch");

    private final AgentOptions options;
    private final IcmpEngine engine;
    private final Broker broker;
    private final AgentTasks tasks;
    private final CapabilityDetector capabilities;
    /** Set once the control server serves (its threads call {@link #health()} before): volatile. */
    private volatile HubLink link;
    private final BrokerObserver brokerHealth;
    private final ControlServer control;
    private final ListenerProbes controlProbe;
    private final ServiceNotifier notifier;
    private final ServiceLoop service;
    private final CompletableFuture<String> refused = new CompletableFuture<>();
    /** Why the last connection to the hub ended, while not registered again; shown by health. */
    private volatile String lastLost;
    private final AtomicBoolean closing = new AtomicBoolean();

    private AgentMain(AgentOptions options, ServiceNotifier notifier) {
        this.options = options;
        this.notifier = notifier;
        Metrics metrics = new Metrics();
        engine = IcmpEngine.open();
        // what is open so far, closed newest first if the agent cannot start: their threads would keep the process alive
        Deque<Runnable> opened = new ArrayDeque<>();
        opened.push(engine::close);
        try {
            EngineMetrics engineMetrics = new EngineMetrics(engine, metrics);
            broker = Broker.connect(options.brokerUrl(), "mimoping-agent-" + options.name());
            opened.push(broker::close);
            tasks = new AgentTasks(options.name(), engineMetrics.counting(), broker, this::leaveHub);
            opened.push(tasks::close);
            brokerHealth = new BrokerObserver(broker, tasks::publishCounts, metrics);
            metrics.gauge("mimoping_agent_reports_unacknowledged",
                    "Result reports kept until the hub acknowledges them (published again after a broker restart)",
                    tasks::unacknowledged);
            service = new ServiceLoop(notifier, this::health);
            // before the control server: its threads call health(), which reads this probe of the server itself
            controlProbe = new ListenerProbes(List.of(new ListenerProbes.Probe.Grpc("control",
                    HealthGrpc.getCheckMethod().getFullMethodName(), channel -> HealthGrpc.newBlockingStub(channel)
                    .check(HealthCheckRequest.newBuilder().setService(AgentControlGrpc.SERVICE_NAME).build()))), metrics);
            capabilities = new CapabilityDetector(options.name(), AgentVersion.current(), options.labels(), engine, KERNEL,
                    ProcessHandle.current().info().startInstant().orElseGet(Instant::now), Clock.systemUTC());
            // before the server serves /metrics; the fields set before it starts are seen by its threads
            metrics.gauge("mimoping_hub_registered", "1 while this agent is registered with its hub", () -> {
                HubLink current = link;
                return current != null && current.hubId().isPresent() ? 1 : 0;
            });
            try {
                control = ControlServer.builder()
                        .host(options.controlAddr().host())
                        .port(options.controlAddr().port())
                        .capabilities(capabilities)
                        .routing(routing -> routing.register(new MetricsService(metrics), new HealthService(this::health)))
                        .start();
            } catch (RuntimeException e) {
                throw new IllegalStateException("cannot serve the control address " + options.controlAddr() + " (--"
                        + AgentOptions.CONTROL_ADDR.name() + "): " + e.getMessage(), e);
            }
            opened.push(control::close);
            controlProbe.start(options.controlAddr().host(), control.port());
            opened.push(controlProbe::close);
            link = new HubLink(URI.create("ws://" + options.hub() + "/ws"),
                    new HubLink.Registration(options.name(), AgentVersion.current(), options.labels(), control.address(),
                            options.token()),
                    new HubLink.Listener() {
                        @Override
                        public void onRegistered(String hubId) {
                            tasks.start(); // or it cannot serve now: the link leaves and tries again later
                            LOG.info(() -> "registered with hub " + hubId + " at " + options.hub());
                            lastLost = null;
                            service.poke();
                        }

                        @Override
                        public void onRefused(int code, String reason) {
                            refused.complete("the hub refused this agent (" + code + "): " + reason);
                        }

                        @Override
                        public void onDisconnected(String reason) {
                            // said once while the same cause lasts (an agent that cannot serve retries every few s)
                            LOG.log(reason.equals(lastLost) ? Level.FINE : Level.WARNING,
                                    () -> "lost the hub at " + options.hub() + ": " + reason + "; reconnecting");
                            lastLost = reason;
                            service.poke();
                        }
                    });
        } catch (RuntimeException e) {
            for (Runnable close : opened) {
                try {
                    close.run();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Starts an agent from command-line arguments (as {@code mimoping agent} takes them) and the process's
     * environment; it runs until closed.
     *
     * @throws IllegalArgumentException for invalid arguments
     * @throws BrokerException if RabbitMQ cannot be reached
     */
    public static AgentMain start(String... args) {
        return start(AgentOptions.parse(args, System.getenv()), ServiceNotifier.fromEnvironment(System.getenv()));
    }

    private static AgentMain start(AgentOptions options, ServiceNotifier notifier) {
        AgentMain agent = new AgentMain(options, notifier);
        agent.link.start();
        agent.service.start();
        return agent;
    }

    public static void main(String[] args) {
        AgentOptions options;
        try {
            options = AgentOptions.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("mimoping agent: " + e.getMessage());
            System.err.println(AgentOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.println(AgentOptions.USAGE);
            return;
        }
        configureLogging(options);
        ServiceNotifier notifier = ServiceNotifier.fromEnvironment(System.getenv());
        notifier.status("connecting to RabbitMQ");
        AgentMain agent;
        try {
            agent = start(options, notifier);
        } catch (BrokerException | IllegalStateException e) {
            System.err.println("mimoping agent: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("mimoping agent " + options.name() + " " + agent.stopping());
            agent.close();
            System.out.println("mimoping agent " + options.name() + " stopped");
        }, "mimoping-agent-shutdown"));
        System.out.println("mimoping agent " + options.name() + " registering with " + options.hub()
                + "; control channel on " + agent.controlAddress() + ": gRPC (grpcurl -plaintext " + agent.controlAddress()
                + " list), http://" + agent.controlAddress() + "/metrics and /health/*");
        AgentCapabilities detected = agent.capabilities.detect();
        System.out.println("  IPv4 ICMP: " + describe(detected.ipv4()));
        System.out.println("  IPv6 ICMP: " + describe(detected.ipv6()));
        String why = agent.refused.join();
        System.err.println("mimoping agent: " + why);
        System.exit(1);
    }

    /** The agent lost its queue's consumer and cannot take it again: it leaves its hub until it can. */
    private void leaveHub(String why) {
        HubLink current = link;
        if (current != null) {
            current.leave(why);
        }
    }

    /** What stopping now means for the tasks in flight. */
    private String stopping() {
        return "stopping: " + tasks.running() + " task(s) in flight end with engine_stopped";
    }

    /** Tasks this agent runs now. */
    public int runningTasks() {
        return tasks.running();
    }

    /** {@code host:port} of this agent's control server (gRPC, {@code /metrics}, {@code /health/*}), as announced to the hub. */
    public String controlAddress() {
        return control.address();
    }

    /** What {@code /health/*}, the systemd watchdog and its status line report. */
    Health health() {
        HubLink link = this.link;
        if (link == null) { // the control server answers before the constructor has built the hub link
            Health.Check starting = new Health.Check("hub_link", false, "starting");
            return new Health(List.of(starting), List.of(starting), "starting");
        }
        boolean engineUp = engine.alive();
        boolean linkUp = link.running();
        String hubId = link.hubId().orElse(null);
        Health.Check broker = brokerHealth.liveness();
        Health.Check connected = brokerHealth.readiness();
        String lost = lastLost;
        String status = hubId == null ? "connecting to the hub at " + options.hub() + (lost == null ? "" : " (" + lost + ")")
                : "registered with " + hubId + " at " + options.hub() + "; " + tasks.running() + " task(s) running";
        List<Health.Check> liveness = new ArrayList<>(List.of(
                new Health.Check("engine", engineUp, engineUp ? "engine threads running" : "an engine thread stopped"),
                new Health.Check("hub_link", linkUp, linkUp ? "running" : "stopped"),
                broker));
        liveness.addAll(controlProbe.checks());
        return new Health(liveness,
                List.of(new Health.Check("registered", hubId != null, hubId == null ? "not registered with "
                                + options.hub() + (lost == null ? "" : ": " + lost) : "registered with " + hubId),
                        connected),
                connected.ok() ? status + "; RabbitMQ connected" : status + "; RabbitMQ reconnecting");
    }

    /** Stops the agent; once (the shutdown hook may call it again). */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        service.stopping(stopping());
        controlProbe.close();
        tasks.stopTaking();
        engine.close();
        tasks.close();
        link.close();
        control.close();
        broker.close();
        notifier.close();
    }

    /** One family's detected capability, for the start-up lines. */
    private static String describe(AgentCapabilities.Icmp icmp) {
        return switch (icmp.engineSocket()) {
            case NONE -> "unavailable: " + icmp.unavailable().orElse("no socket could be opened");
            case RAW, DATAGRAM -> icmp.engineSocket().name().toLowerCase() + " socket"
                    + icmp.timestamps().map(t -> "; " + t.detail()).orElse("");
        };
    }

    private static void configureLogging(AgentOptions options) {
        try (InputStream config = AgentMain.class.getResourceAsStream("/logging.properties")) {
            if (config != null) {
                LogManager.getLogManager().readConfiguration(config);
            }
        } catch (IOException e) {
            System.err.println("mimoping agent: cannot read logging.properties: " + e.getMessage());
        }
        HangUpFilter.install();
        if (options.logFormat() == LogFormat.JSON) {
            JsonLogFormatter.install(Map.of("agent", options.name()));
        }
    }
}
