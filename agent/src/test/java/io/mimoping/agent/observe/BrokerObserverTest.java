package io.mimoping.agent.observe;

import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.ConfirmingPublisher;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker checks against a real RabbitMQ: ready while connected, live until the grace period ends. */
class BrokerObserverTest {

    private static final String BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/";

    @Test
    void aLostConnectionMakesTheProcessUnreadyAtOnceAndNotLiveAfterTheGrace() throws Exception {
        Metrics metrics = new Metrics();
        Broker broker = Broker.connect(BROKER_URL, "mimoping-test-observer");
        try (ConfirmingPublisher publisher = new ConfirmingPublisher(broker, (key, properties, body) -> { })) {
            BrokerObserver observer = new BrokerObserver(broker, publisher::counts, metrics, Duration.ofMillis(300));
            publisher.publish("", "mimoping-test-nobody", true, null, new byte[] {1});
            assertTrue(publisher.awaitConfirms(Duration.ofSeconds(10)));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!metrics.scrape().contains("mimoping_rabbitmq_publish_returns_total 1\n") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            String scrape = metrics.scrape();
            assertTrue(scrape.contains("mimoping_rabbitmq_connected 1\n"), scrape);
            assertTrue(scrape.contains("mimoping_rabbitmq_publish_confirms_total 1\n"), scrape);
            assertTrue(scrape.contains("mimoping_rabbitmq_publish_returns_total 1\n"), "an unroutable mandatory message: " + scrape);
            assertTrue(observer.liveness().ok());
            assertTrue(observer.readiness().ok());
        } finally {
            broker.close();
        }
        BrokerObserver observer = new BrokerObserver(broker, () -> new ConfirmingPublisher.Counts(0, 0, 0, 0),
                new Metrics(), Duration.ofMillis(300));
        assertFalse(observer.readiness().ok(), "not ready while the connection is down");
        assertTrue(observer.liveness().ok(), "still live within the grace period");
        Thread.sleep(400);
        Health.Check liveness = observer.liveness();
        assertFalse(liveness.ok(), "not live once the broker has been unreachable longer than the grace");
        assertEquals("broker", liveness.name());
        assertTrue(liveness.detail().startsWith("unreachable for 0 s (limit 0 s)"), liveness.detail());
    }
}
