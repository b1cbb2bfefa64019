package io.mimoping.hub.stream;

import java.time.Duration;

/**
 * How much of each task the hub keeps for stream clients, and how long it waits on them.
 *
 * @param retainEvents  events kept per task (the oldest go first); a client asking for older ones gets a {@code gap}
 * @param retainBytes   bytes of event JSON kept per task, the same way
 * @param keepFinished  how long a finished task stays listed and readable
 * @param keepTasks     finished tasks kept at most (the oldest go first)
 * @param clientTimeout a WebSocket client that takes no frame, or answers no ping, for this long is disconnected
 */
public record StreamLimits(int retainEvents, long retainBytes, Duration keepFinished, int keepTasks,
                           Duration clientTimeout) {

    /** The defaults of {@code mimoping hub}. */
    public static final StreamLimits DEFAULTS =
            new StreamLimits(100_000, 16L << 20, Duration.ofMinutes(10), 100, Duration.ofSeconds(30));

    public StreamLimits {
        if (retainEvents < 1 || retainBytes < 1 || keepTasks < 0) {
            throw new IllegalArgumentException("retention must keep at least one event of at least one byte");
        }
        if (keepFinished.isNegative() || clientTimeout.isNegative() || clientTimeout.isZero()) {
            throw new IllegalArgumentException("durations must be positive");
        }
    }

    /** The same limits with another retention. */
    public StreamLimits withRetention(int events, long bytes, Duration keep) {
        return new StreamLimits(events, bytes, keep, keepTasks, clientTimeout);
    }
}
