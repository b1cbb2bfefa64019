package io.mimoping.agent.process;

import io.mimoping.agent.control.CapabilityDetector;
import io.mimoping.agent.control.ControlServer;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.BrokerException;
import io.mimoping.bridge.control.AgentCapabilities;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * {@code mimoping agent}: registers with a hub over WebSocket, takes tasks from its queue on the broker,
 * pings, and reports back. Wires the parts and nothing else; stops cleanly on SIGTERM.
 */
public final class AgentMain implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentMain.class.getName());
    /** The kernel this process runs on, as the control channel reports it. */
    private static final String KERNEL = System.getProperty("os.name") + " " + System.getProperty("os.version")
            + " " + System.getProperty("os.arch");

    private final IcmpEngine engine;
    private final Broker broker;
    private final AgentTasks tasks;
    private final CapabilityDetector capabilities;
    private final ControlServer control;
    private final HubLink link;
    private final CompletableFuture<String> refused = new CompletableFuture<>();

    private AgentMain(AgentOptions options) {
        engine = IcmpEngine.open();
        try {
            broker = Broker.connect(options.brokerUrl(), "mimoping-agent-" + options.name());
        } catch (BrokerException e) {
            engine.close();
            throw e;
        }
        tasks = new AgentTasks(options.name(), engine, broker);
        capabilities = new CapabilityDetector(options.name(), AgentVersion.current(), options.labels(), engine, KERNEL,
                ProcessHandle.current().info().startInstant().orElseGet(Instant::now), Clock.systemUTC());
        try {
            control = ControlServer.builder().host(options.control().host()).port(options.control().port())
                    .capabilities(capabilities).start();
        } catch (RuntimeException e) {
            tasks.close();
            broker.close();
            engine.close();
            throw e;
        }
        link = new HubLink(URI.create("ws://" + options.hub() + "/ws"),
                new HubLink.Registration(options.name(), AgentVersion.current(), options.labels(), control.address(),
                        options.token()),
                new HubLink.Listener() {
                    @Override
                    public void onRegistered(String hubId) {
                        LOG.info(() -> "registered with hub " + hubId + " at " + options.hub());
                        tasks.start();
                    }

                    @Override
                    public void onRefused(int code, String reason) {
                        refused.complete("the hub refused this agent (" + code + "): " + reason);
                    }

                    @Override
                    public void onDisconnected(String reason) {
                        LOG.warning(() -> "lost the hub at " + options.hub() + ": " + reason + "; reconnecting");
                    }
                });
    }

    /**
     * Starts an agent from command-line arguments (as {@code mimoping agent} takes them); it runs until closed.
     *
     * @throws IllegalArgumentException for invalid arguments
     * @throws BrokerException if RabbitMQ cannot be reached
     */
    public static AgentMain start(String... args) {
        return start(AgentOptions.parse(args, System.getenv("MIMOPING_AGENT_TOKEN")));
    }

    private static AgentMain start(AgentOptions options) {
        AgentMain agent = new AgentMain(options);
        agent.link.start();
        return agent;
    }

    public static void main(String[] args) {
        AgentOptions options;
        try {
            options = AgentOptions.parse(args, System.getenv("MIMOPING_AGENT_TOKEN"));
        } catch (IllegalArgumentException e) {
            System.err.println("mimoping agent: " + e.getMessage());
            System.err.println(AgentOptions.USAGE);
            System.exit(2);
            return;
        }
        configureLogging();
        AgentMain agent;
        try {
            agent = start(options);
        } catch (BrokerException e) {
            System.err.println("mimoping agent: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "mimoping-agent-shutdown"));
        System.out.println("mimoping agent " + options.name() + " registering with " + options.hub()
                + "; control channel (gRPC) on " + agent.controlAddress());
        AgentCapabilities detected = agent.capabilities.detect();
        System.out.println("  IPv4 ICMP: " + describe(detected.ipv4()));
        System.out.println("  IPv6 ICMP: " + describe(detected.ipv6()));
        String why = agent.refused.join();
        System.err.println("mimoping agent: " + why);
        System.exit(1);
    }

    /** {@code host:port} of this agent's control channel, as announced to the hub. */
    public String controlAddress() {
        return control.address();
    }

    /** Tasks this agent runs now. */
    public int runningTasks() {
        return tasks.running();
    }

    @Override
    public void close() {
        link.close();
        control.close();
        tasks.close();
        broker.close();
        engine.close();
    }

    /** One family's detected capability, for the start-up lines. */
    private static String describe(AgentCapabilities.Icmp icmp) {
        return switch (icmp.engineSocket()) {
            case NONE -> "unavailable: " + icmp.unavailable().orElse("no socket could be opened");
            case RAW, DATAGRAM -> icmp.engineSocket().name().toLowerCase() + " socket"
                    + icmp.timestamps().map(t -> "; " + t.detail()).orElse("");
        };
    }

    private static void configureLogging() {
        try (InputStream config = AgentMain.class.getResourceAsStream("/logging.properties")) {
            if (config != null) {
                LogManager.getLogManager().readConfiguration(config);
            }
        } catch (IOException e) {
            System.err.println("mimoping agent: cannot read logging.properties: " + e.getMessage());
        }
    }
}
