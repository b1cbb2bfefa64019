package io.mimoping.bridge.probe;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A ping task with every default filled in, as the pinging side (hub or agent) runs it.
 *
 * @param id          task id, unique per hub
 * @param targets     targets as the user wrote them (host names or addresses), resolved by the pinging side
 * @param interval    pause between two probes to the same target
 * @param count       probes per target
 * @param timeout     deadline of each probe, counted from its own send time
 * @param payloadSize ICMP echo payload bytes (after the 8-byte ICMP header)
 */
public record PingTask(String id, List<String> targets, Duration interval, int count, Duration timeout,
                       int payloadSize) {

    /** Smallest payload: it carries the probe's cookie and key, which match a reply to its probe. */
    public static final int MIN_PAYLOAD = 16;

    public PingTask {
        Objects.requireNonNull(id, "id");
        targets = List.copyOf(targets);
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1: " + count);
        }
        if (payloadSize < MIN_PAYLOAD) {
            throw new IllegalArgumentException("payload must be at least " + MIN_PAYLOAD + " bytes: " + payloadSize);
        }
    }
}
