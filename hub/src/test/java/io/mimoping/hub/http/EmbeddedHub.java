package io.mimoping.hub.http;

import io.helidon.webserver.WebServerConfig;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.hub.HubSetup;
import io.mimoping.hub.Main;
import io.mimoping.hub.stream.StreamLimits;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.ws.AgentRegistry;

import java.time.Duration;

/** What a test's embedded-mode hub owns besides its server: the real engine and the agent registry. */
final class EmbeddedHub implements AutoCloseable {

    private IcmpEngine engine;
    private AgentRegistry agents;

    /** Sets the server up as {@code main} does, pinging from this host. */
    void setup(WebServerConfig.Builder builder, StreamLimits limits) {
        engine = IcmpEngine.open();
        agents = new AgentRegistry("hub-test", Duration.ofSeconds(5), Duration.ofSeconds(15), null);
        Main.setup(builder, new HubSetup(engine, agents, AgentDirectory.NONE, limits));
    }

    @Override
    public void close() {
        if (agents != null) {
            agents.close();
        }
        if (engine != null) {
            engine.close();
        }
    }
}
