package io.mimoping.hub.ws;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Who holds a name when the same agent registers again: the moment its old connection ends is a race between the
 * server noticing and the agent reconnecting, so it is played here with sessions whose end the test decides.
 */
class AgentRegistryTest {

    /** A connection the test ends; the registry never writes to it in this test (no heartbeat is due). */
    private static final class Connection implements AgentSession {

        private volatile boolean ended;

        @Override
        public void heartbeat() {
        }

        @Override
        public void close(int code, String reason) {
        }

        @Override
        public void abort() {
        }

        @Override
        public boolean ended() {
            return ended;
        }
    }

    private static Agent agent(String name, String remote) {
        return new Agent(name, "9.9.9-test", Map.of(), null, remote, Instant.now());
    }

    @Test
    void aRegistrationWhoseConnectionEndedIsReplacedAndALiveOneIsNot() {
        List<String> heard = new CopyOnWriteArrayList<>();
        try (AgentRegistry registry = new AgentRegistry("hub-test", Duration.ofMinutes(1), Duration.ofMinutes(3), null)) {
            registry.addListener(new AgentRegistry.Listener() {
                @Override
                public void onLeft(Agent agent, String reason) {
                    heard.add("left " + agent.remoteAddress() + ": " + reason);
                }

                @Override
                public void onDropped(Agent agent, String reason) {
                    heard.add("dropped " + agent.remoteAddress() + ": " + reason);
                }
            });
            Connection old = new Connection();
            var first = assertInstanceOf(AgentRegistry.Admitted.class, registry.register(agent("a", "10.0.0.1:1"), old));
            registry.joined(first.entry());

            var refused = assertInstanceOf(AgentRegistry.Duplicate.class,
                    registry.register(agent("a", "10.0.0.1:2"), new Connection()));
            assertEquals("10.0.0.1:1", refused.existing().remoteAddress(), "a live registration keeps its name");
            assertEquals(List.of(), heard);

            old.ended = true; // its process was killed: the server closed the socket, the agent starts again
            var second = assertInstanceOf(AgentRegistry.Admitted.class,
                    registry.register(agent("a", "10.0.0.1:3"), new Connection()));
            registry.joined(second.entry());
            String why = "its connection had ended; replaced by a new registration from 10.0.0.1:3";
            assertEquals(List.of("left 10.0.0.1:1: " + why, "dropped 10.0.0.1:1: " + why), heard);
            assertEquals("10.0.0.1:3", registry.find("a").orElseThrow().remoteAddress());
            assertEquals(1, registry.list().size());
        }
    }
}
