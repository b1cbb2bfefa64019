package io.mimoping.hub.dispatch;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.hub.ChildJvm;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.ws.AgentRegistry;

import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** A hub in distributed mode on a free port, as {@code mimoping hub --rabbitmq-broker-url} wires it. */
public final class TestHub implements AutoCloseable {

    public static final String BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/";

    final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    final Broker broker;
    public final AgentRegistry registry;
    final Dispatcher dispatcher;
    public final WebServer server;
    private final String host;

    TestHub(ProbeEngine engine, Duration heartbeat, int port) {
        this(engine, heartbeat, "127.0.0.1", port);
    }

    /** A hub listening on {@code host} (an IPv4 address) and {@code port} (0: any free one). */
    public TestHub(ProbeEngine engine, Duration heartbeat, String host, int port) {
        this.host = host;
        broker = Broker.connect(BROKER_URL, "mimoping-test-hub-" + id);
        registry = new AgentRegistry(id, heartbeat, heartbeat.multipliedBy(3), null);
        dispatcher = new Dispatcher(broker, id, heartbeat.multipliedBy(3));
        registry.addListener(dispatcher);
        WebServerConfig.Builder builder = WebServer.builder().host(host).port(port);
        Main.setup(builder, new HubSetup(engine, registry,
                name -> java.util.Optional.of(dispatcher.agent(name, registry.find(name).isPresent()))));
        server = builder.build().start();
    }

    public String addr() {
        return host + ":" + server.port();
    }

    /** Agent {@code name} registering with this hub, in a process of its own (so that a test can SIGKILL it). */
    ChildJvm agentProcess(String name) {
        return ChildJvm.start(AgentMain.class, "-node-name", name, "-addr", addr(), "-rabbitmq-broker-url", BROKER_URL,
                "-control-addr", "127.0.0.1:0");
    }

    @Override
    public void close() {
        server.stop();
        dispatcher.close();
        registry.close();
        broker.close();
    }
}
