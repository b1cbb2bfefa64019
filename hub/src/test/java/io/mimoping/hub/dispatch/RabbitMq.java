package io.mimoping.hub.dispatch;

import io.mimoping.bridge.amqp.Broker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** The local RabbitMQ's own tool, for tests that restart the broker or look at what is left on it. */
public final class RabbitMq {

    private RabbitMq() {
    }

    /** Consumers of the queue now; -1 if there is no such queue. */
    public static int consumers(String queue) {
        try (Broker broker = Broker.connect(TestHub.BROKER_URL, "mimoping-test-look")) {
            return broker.consumers(queue);
        }
    }

    /** Makes the broker close the connection a client named {@code connectionName}, as if it was cut. */
    public static void closeConnection(String connectionName) {
        String pid = ctl("list_connections", "pid", "client_properties").lines()
                .filter(line -> line.contains("\"" + connectionName + "\""))
                .map(line -> line.substring(0, line.indexOf('\t')))
                .findFirst().orElseThrow(() -> new AssertionError("no connection named " + connectionName));
        ctl("close_connection", pid, "closed by a test");
    }

    /** Runs {@code rabbitmqctl -q ARGS} and returns what it printed; fails the test if it fails. */
    public static String ctl(String... args) {
        List<String> command = new ArrayList<>(List.of("rabbitmqctl", "-q"));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                fail("rabbitmqctl " + String.join(" ", args) + " failed: " + output);
            }
            return output;
        } catch (IOException e) {
            throw new AssertionError("cannot run rabbitmqctl", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
