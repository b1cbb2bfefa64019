package io.mimoping.hub.dispatch;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.ws.AgentRegistry;

import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** A hub in distributed mode on a free port, as {@code mimoping hub --rabbitmq-broker-url} wires it. */
final class TestHub implements AutoCloseable {

    static final String BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/";

    final String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    final Broker broker;
    final AgentRegistry registry;
    final Dispatcher dispatcher;
    final WebServer server;

    TestHub(ProbeEngine engine, Duration heartbeat, int port) {
        broker = Broker.connect(BROKER_URL, "mimoping-test-hub-" + id);
        registry = new AgentRegistry(id, heartbeat, heartbeat.multipliedBy(3), null);
        dispatcher = new Dispatcher(broker, id, heartbeat.multipliedBy(3));
        WebServerConfig.Builder builder = WebServer.builder().host("127.0.0.1").port(port);
        Main.setup(builder, new HubSetup(engine, registry, name -> java.util.Optional.of(dispatcher.agent(name))));
        server = builder.build().start();
    }

    String addr() {
        return "127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        server.stop();
        dispatcher.close();
        registry.close();
        broker.close();
    }
}
