package io.mimoping.hub.stream;

import java.time.Duration;

/**
 * How much of each task the hub keeps for stream clients, how many background tasks it runs, and how long
 * it waits on stream clients.
 *
 * @param retainEvents      events kept per task (the oldest go first); a client asking for older ones gets a {@code gap}
 * @param retainBytes       bytes of event JSON kept per task, the same way
 * @param keepFinished      how long a finished task stays listed and readable
 * @param keepTasks         finished tasks kept at most (the oldest go first)
 * @param retainTotalBytes  bytes of event JSON kept by all finished tasks together (the oldest tasks go first)
 * @param maxTasks          tasks started with {@code POST /tasks} running at once at most; more are refused
 * @param clientTimeout     a WebSocket client that takes no frame, or answers no ping, for this long is disconnected
 */
public record StreamLimits(int retainEvents, long retainBytes, Duration keepFinished, int keepTasks,
                           long retainTotalBytes, int maxTasks, Duration clientTimeout) {

    /** The defaults of {@code mimoping hub}: some 16 MiB per running task, 256 MiB for the finished ones. */
    public static final StreamLimits DEFAULTS = new StreamLimits(100_000, 16L << 20, Duration.ofMinutes(10), 100,
            256L << 20, 1000, Duration.ofSeconds(30));

    public StreamLimits {
        if (retainEvents < 1 || retainBytes < 1 || keepTasks < 0 || retainTotalBytes < 1) {
            throw new IllegalArgumentException("retention must keep at least one event of at least one byte");
        }
        if (maxTasks < 1) {
            throw new IllegalArgumentException("at least one task must be allowed to run");
        }
        if (keepFinished.isNegative() || clientTimeout.isNegative() || clientTimeout.isZero()) {
            throw new IllegalArgumentException("durations must be positive");
        }
    }

    /**
     * These limits, lowered where need be so that the events all tasks may keep fit in half of a Java heap of
     * {@code heapBytes}: the running tasks, each of which may keep {@code retainBytes} ({@code maxTasks}), and the
     * finished ones ({@code retainTotalBytes}). When they do not fit, the finished ones keep what the running ones
     * leave, but at least a quarter of the heap, and the running ones the rest (at least one task). Otherwise
     * enough busy tasks would exhaust the heap and the hub would die with all of them.
     */
    public StreamLimits fittedTo(long heapBytes) {
        long half = heapBytes / 2;
        long runningBytes = (long) maxTasks * retainBytes;
        if (runningBytes + retainTotalBytes <= half) {
            return this;
        }
        long finished = Math.min(retainTotalBytes, Math.max(Math.max(1, heapBytes / 4), half - runningBytes));
        long running = Math.max(1, (half - finished) / retainBytes);
        return new StreamLimits(retainEvents, retainBytes, keepFinished, keepTasks, finished,
                (int) Math.min(maxTasks, running), clientTimeout);
    }

    /** The same limits with another retention per task. */
    public StreamLimits withRetention(int events, long bytes, Duration keep) {
        return new StreamLimits(events, bytes, keep, keepTasks, retainTotalBytes, maxTasks, clientTimeout);
    }

    /** The same limits with another budget of running tasks and of finished tasks' bytes. */
    public StreamLimits withBudget(int tasks, long totalBytes) {
        return new StreamLimits(retainEvents, retainBytes, keepFinished, keepTasks, totalBytes, tasks, clientTimeout);
    }
}
