package io.mimoping.agent.process;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** An agent that cannot start says why and leaves nothing running (a real RabbitMQ, a real port in use). */
class AgentMainTest {

    private static final String BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/";

    @Test
    void aControlPortInUseStopsTheAgentNamingTheAddressAndTheKey() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String control = "127.0.0.1:" + taken.getLocalPort();
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> AgentMain.start(
                    "--node-name", "port-taken", "--addr", "127.0.0.1:1", "--control-addr", control,
                    "--rabbitmq-broker-url", BROKER_URL));
            assertEquals("cannot serve the control address " + control + " (--control-addr): address already in use",
                    refused.getMessage());
        }
        // the broker connection, the engine and the tasks were closed: no new thread keeps a process alive
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Thread> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> !before.contains(t) && !t.isDaemon() && t.isAlive()).toList();
            Thread.sleep(50);
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        assertEquals(List.of(), left.stream().map(Thread::getName).toList());
    }
}
