package io.mimoping.hub;

import io.helidon.common.socket.SocketOptions;
import io.helidon.logging.common.LogConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.mimoping.agent.config.HostPort;
import io.mimoping.agent.config.LogFormat;
import io.mimoping.agent.control.ServerStart;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.observe.EngineMetrics;
import io.mimoping.agent.observe.HangUpFilter;
import io.mimoping.agent.observe.JsonLogFormatter;
import io.mimoping.agent.observe.Metrics;
import io.mimoping.agent.systemd.ServiceLoop;
import io.mimoping.agent.systemd.ServiceNotifier;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.BrokerException;
import io.mimoping.hub.control.AgentControls;
import io.mimoping.hub.dispatch.Dispatcher;
import io.mimoping.hub.grpc.HubService;
import io.mimoping.hub.guard.ConnectionGuard;
import io.mimoping.hub.guard.ConnectionLimits;
import io.mimoping.hub.guard.FdBudget;
import io.mimoping.hub.http.AgentsService;
import io.mimoping.hub.http.ClientApi;
import io.mimoping.hub.http.ErrorResponses;
import io.mimoping.hub.http.PingTaskService;
import io.mimoping.hub.http.SameOrigin;
import io.mimoping.hub.http.TaskSocket;
import io.mimoping.hub.observe.HubObservation;
import io.mimoping.hub.stream.StreamLimits;
import io.mimoping.hub.stream.TaskStore;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.task.TaskRunner;
import io.mimoping.hub.ws.AgentEndpoint;
import io.mimoping.hub.ws.AgentRegistry;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** Starts the hub: wires the engine, the agent registry, the task runner and the routes, and nothing else. */
public final class Main {

    /** How long a task stream may stay silent before the hub checks its client is still there. */
    static final Duration KEEP_ALIVE = Duration.ofSeconds(1);
    /**
     * Connections the kernel may hold before the hub accepts them: thousands of agents reconnect together after a
     * network fault, and Helidon's 1,024 overflowed (a refused SYN is sent again 1, 3, 7 s later). The kernel caps it
     * at {@code net.core.somaxconn} (4,096 by default).
     */
    static final int ACCEPT_BACKLOG = 16_384;

    private Main() {
    }

    public static void main(String[] args) {
        HubOptions options;
        try {
            options = HubOptions.parse(args, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("mimoping hub: " + e.getMessage());
            System.err.println(HubOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.println(HubOptions.USAGE);
            return;
        }
        LogConfig.configureRuntime();
        HangUpFilter.install();
        String hubId = newHubId();
        if (options.logFormat() == LogFormat.JSON) {
            JsonLogFormatter.install(Map.of("hub", hubId));
        }
        ServiceNotifier notifier = ServiceNotifier.fromEnvironment(System.getenv());
        Metrics metrics = new Metrics();
        IcmpEngine engine = IcmpEngine.open();
        EngineMetrics engineMetrics = new EngineMetrics(engine, metrics);
        Broker broker = null;
        Dispatcher dispatcher = null;
        if (options.brokerUrl() != null) {
            notifier.status("connecting to RabbitMQ");
            try {
                broker = Broker.connect(options.brokerUrl(), "mimoping-" + hubId);
            } catch (BrokerException e) {
                System.err.println("mimoping hub: " + e.getMessage());
                engine.close();
                System.exit(1);
                return;
            }
            dispatcher = new Dispatcher(broker, hubId, options.heartbeatTimeout());
        }
        AgentRegistry agents = new AgentRegistry(hubId, options.heartbeat(), options.heartbeatTimeout(),
                options.agentToken());
        if (dispatcher != null) {
            agents.addListener(dispatcher); // an agent whose connection drops is lost at once, not at the timeout
        }
        if (broker == null) {
            agents.refuseAll("this hub has no RabbitMQ, so no tasks for agents: start it with --"
                    + HubOptions.BROKER.name());
        }
        HubObservation observation = new HubObservation(metrics, engine, agents, dispatcher, broker);
        // sized now that the engine's sockets, the broker connection and the jars are open
        FdBudget fds = FdBudget.now();
        ConnectionGuard guard = new ConnectionGuard(options.connections().fitted(fds), observation::isOwnProbe);
        guard.register(metrics, observation.clients()::slowReadersCut);
        // our own hook stops things in order: agents hear the hub is stopping before the server goes
        WebServerConfig.Builder builder = WebServer.builder().host(options.host()).port(options.port())
                .backlog(ACCEPT_BACKLOG).shutdownHook(false);
        Dispatcher onBroker = dispatcher;
        long heap = Runtime.getRuntime().maxMemory();
        StreamLimits streams = options.streams().fittedTo(heap);
        HubTasks tasks = setup(builder, new HubSetup(engineMetrics.counting(), agents,
                onBroker == null ? AgentDirectory.NONE
                        : name -> Optional.of(onBroker.agent(name, agents.find(name).isPresent())),
                streams, observation.clients(), guard),
                observation::routing);
        Broker connection = broker;
        Runnable closeBehindServer = () -> {
            if (onBroker != null) {
                onBroker.close();
                connection.close();
            }
            engine.close();
            notifier.close();
        };
        WebServer server;
        try {
            server = ServerStart.start(builder.build(), options.host(), options.port());
        } catch (IllegalStateException e) {
            System.err.println("mimoping hub: cannot listen on " + new HostPort(options.host(), options.port()) + " (--"
                    + HubOptions.ADDR.name() + "): " + e.getMessage());
            tasks.stop();
            agents.close();
            closeBehindServer.run();
            System.exit(1);
            return;
        }
        observation.serving(options.host(), server.port());
        ServiceLoop service = new ServiceLoop(notifier, observation::health).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            String stopping = "stopping: ending " + observation.streams() + " client stream(s)";
            System.out.println("mimoping hub " + stopping);
            service.stopping(stopping);
            observation.close();
            tasks.stop(); // first: every task's stream client gets its cancelled error and end
            agents.close();
            server.stop();
            closeBehindServer.run();
            System.out.println("mimoping hub stopped");
        }, "mimoping-shutdown"));
        printStatus(System.out, options, server.port(), engine, agents, streams, heap, guard.limits(), fds);
    }

    /**
     * Routes and handlers of the hub; tests set up their servers with it too.
     *
     * @return the hub's tasks; stop them before the server stops, so that their stream clients see them end
     */
    public static HubTasks setup(WebServerConfig.Builder server, HubSetup hub) {
        return setup(server, hub, routing -> { });
    }

    /**
     * Routes and handlers of the hub, plus {@code more} routes (the operator's: metrics, health), all on
     * one routing.
     *
     * @return the hub's tasks, as {@link #setup(WebServerConfig.Builder, HubSetup)} returns them
     */
    public static HubTasks setup(WebServerConfig.Builder server, HubSetup hub, Consumer<HttpRouting.Builder> more) {
        AgentControls controls = AgentControls.watch(hub.agents());
        AgentDirectory directory = controls.directory(hub.directory());
        // Streams to a client socket (/ping-task, gRPC) send keep-alives to notice a client gone; background
        // tasks write into their event log and have no client to check.
        TaskRunner runner = new TaskRunner(hub.engine(), directory, KEEP_ALIVE);
        TaskStore tasks = new TaskStore(new TaskRunner(hub.engine(), directory, null), hub.streams(), Clock.systemUTC());
        server.routing(routing -> {
            routing.addFilter(hub.guard().filter()); // first: it tells the guard when each request was answered
            ErrorResponses.register(routing);
            SameOrigin.register(routing);
            routing.register(new PingTaskService(runner, hub.clients()));
            routing.register(new AgentsService(hub.agents(), controls));
            ClientApi.register(routing, tasks, hub.clients());
            more.accept(routing);
        });
        server.addRouting(TaskSocket.routing(AgentEndpoint.routing(hub.agents()), tasks, hub.clients()));
        HubService.register(server, runner, hub.agents(), controls, hub.clients());
        // Streams are small lines written as they happen: with Nagle's algorithm (Helidon's default) a line
        // waits for the client to acknowledge the previous one, which measured ~10 ms at p99 on loopback.
        // (These are the listener's whole socket options: Helidon's defaults, and no delay.) The guard goes in
        // after the gRPC service, whose HTTP/2 selector it marks connections through.
        hub.guard().install(server, SocketOptions.builder().tcpNoDelay(true).build());
        return new HubTasks(tasks, runner);
    }

    /** A broker URL without its password, for logs. */
    private static String redacted(String url) {
        return url.replaceFirst("(//[^:/@]+):[^@/]*@", "$1:***@");
    }

    /** How this hub names itself to its agents: unique per run. */
    private static String newHubId() {
        return "hub-" + HexFormat.of().toHexDigits(new SecureRandom().nextLong());
    }

    /** What background tasks may keep, and what was lowered to fit the heap. */
    private static void printLimits(PrintStream out, StreamLimits asked, StreamLimits fitted, long heap) {
        List<String> lowered = new ArrayList<>();
        if (fitted.maxTasks() < asked.maxTasks()) {
            lowered.add("--max-tasks " + asked.maxTasks());
        }
        if (fitted.retainTotalBytes() < asked.retainTotalBytes()) {
            lowered.add("--retain-total-bytes " + size(asked.retainTotalBytes()));
        }
        out.println("  background tasks (POST /tasks): at most " + fitted.maxTasks() + " at once, each keeping up to "
                + size(fitted.retainBytes()) + " of events; " + size(fitted.retainTotalBytes())
                + " for finished ones" + (lowered.isEmpty() ? "" : " (" + String.join(" and ", lowered)
                + " lowered to fit in half the " + (heap >> 20) + " MiB Java heap; raise it with MIMOPING_JAVA_OPTS=-Xmx..."
                + " or keep less per task with --retain-bytes)"));
    }

    /** The connection limits in force, and the file descriptors they were sized from. */
    private static void printConnections(PrintStream out, ConnectionLimits limits, FdBudget fds) {
        out.println("  connections: at most " + limits.maxConnections() + " at once (file descriptor limit "
                + fds.limit() + ", " + fds.open() + " open at start; --" + HubOptions.MAX_CONNECTIONS.name() + "), "
                + (limits.maxPerClient() == 0 ? "no cap per client address" : limits.maxPerClient()
                + " per client address (--" + HubOptions.MAX_PER_CLIENT.name() + ")")
                + "; a request header within " + seconds(limits.headerTimeout()) + ", the next request within "
                + seconds(limits.idleTimeout()) + ", a request body within " + seconds(limits.bodyTimeout()));
    }

    private static String seconds(Duration duration) {
        long ms = duration.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    private static String size(long bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : bytes >= 1 << 10 ? (bytes >> 10) + " KiB" : bytes + " bytes";
    }

    private static void printStatus(PrintStream out, HubOptions options, int port, IcmpEngine engine,
                                    AgentRegistry agents, StreamLimits streams, long heap, ConnectionLimits connections,
                                    FdBudget fds) {
        String host = options.host();
        String brokerUrl = options.brokerUrl();
        String shown = host.contains(":") ? "[" + host + "]" : host;
        out.println("mimoping hub listening on http://" + shown + ":" + port
                + (brokerUrl == null ? " (embedded mode: pings from this host, no broker)"
                : " (distributed mode: agents on RabbitMQ " + redacted(brokerUrl) + ", and this host)"));
        for (IcmpFamily family : IcmpFamily.values()) {
            engine.mode(family).ifPresentOrElse(
                    mode -> out.println("  " + family.label() + " ICMP: " + mode.name().toLowerCase() + " socket"),
                    () -> out.println("  " + family.label() + " ICMP unavailable: " + engine.unavailable(family).orElseThrow()));
        }
        if (brokerUrl == null) {
            out.println("  agents: refused (no RabbitMQ to give them tasks; --" + HubOptions.BROKER.name() + " URL to use them)");
        } else {
            out.println("  agents register at ws://" + shown + ":" + port + AgentEndpoint.PATH + " ("
                    + (agents.tokenRequired() ? "agent token required" : "no agent token: any agent may register")
                    + ", heartbeat " + agents.heartbeat().toMillis() + " ms)");
        }
        out.println("  gRPC (mimoping.v1.Hub, with reflection) on the same port: grpcurl -plaintext " + shown + ":" + port
                + " list");
        out.println("  dashboard: http://" + shown + ":" + port + "/   API: http://" + shown + ":" + port + "/openapi.yaml");
        printLimits(out, options.streams(), streams, heap);
        printConnections(out, connections, fds);
        out.println("  try: curl -N -H 'Content-Type: application/json' -d '{\"targets\":[\"127.0.0.1\",\"::1\"],"
                + "\"count\":5,\"interval\":200}' http://" + shown + ":" + port + "/ping-task");
    }
}
