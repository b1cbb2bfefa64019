package io.mimoping.agent.observe;

import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.ConfirmingPublisher;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The RabbitMQ connection as metrics and health checks. The connection recovers on its own, so a short
 * outage leaves the process live (only not ready); an outage longer than {@link #GRACE} makes it not live,
 * so that systemd's watchdog restarts it.
 */
public final class BrokerObserver {

    /** How long the broker may stay unreachable before the process counts as not live. */
    public static final Duration GRACE = Duration.ofMinutes(2);

    private final Broker broker;
    private final Duration grace;
    /** When the connection was first seen down, or 0 while it is up; written by whoever checks. */
    private volatile long downSince;

    public BrokerObserver(Broker broker, Supplier<ConfirmingPublisher.Counts> counts, Metrics metrics) {
        this(broker, counts, metrics, GRACE);
    }

    BrokerObserver(Broker broker, Supplier<ConfirmingPublisher.Counts> counts, Metrics metrics, Duration grace) {
        this.broker = broker;
        this.grace = grace;
        metrics.gauge("mimoping_rabbitmq_connected", "1 while the RabbitMQ connection is up", () -> broker.isOpen() ? 1 : 0);
        metrics.counter("mimoping_rabbitmq_publish_confirms_total", "Published messages RabbitMQ confirmed",
                () -> counts.get().confirmed());
        metrics.counter("mimoping_rabbitmq_publish_nacks_total", "Published messages RabbitMQ nacked (published again)",
                () -> counts.get().nacked());
        metrics.counter("mimoping_rabbitmq_publish_returns_total",
                "Mandatory messages RabbitMQ could not route (returned)", () -> counts.get().returned());
        metrics.gauge("mimoping_rabbitmq_publish_pending", "Published messages not confirmed yet",
                () -> counts.get().pending());
    }

    /** Live unless the broker has been unreachable for longer than the grace period. */
    public Health.Check liveness() {
        long down = downNanos();
        return new Health.Check("broker", down <= grace.toNanos(), down == 0 ? "connected"
                : "unreachable for " + Duration.ofNanos(down).toSeconds() + " s (limit " + grace.toSeconds() + " s)");
    }

    /** Ready while the connection is up. */
    public Health.Check readiness() {
        boolean open = broker.isOpen();
        return new Health.Check("broker_connected", open, open ? "connected" : "reconnecting");
    }

    private long downNanos() {
        long now = System.nanoTime();
        if (broker.isOpen()) {
            downSince = 0;
            return 0;
        }
        long since = downSince;
        if (since == 0) {
            downSince = now;
            return 1;
        }
        return Math.max(1, now - since);
    }
}
