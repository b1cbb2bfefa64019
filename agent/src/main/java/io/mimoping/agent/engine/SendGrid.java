package io.mimoping.agent.engine;

/**
 * When each probe of a task is due, as a cursor over the fixed grid of (round, target): probe {@code r}
 * of the target with grid index {@code g} is due at {@code start + r * interval + g * stagger}. The stagger
 * spreads the targets' first probes over at most one interval ({@code targets * stagger <= interval}),
 * so the grid in (round, index) order is also in time order, and one cursor per task walks it with no
 * timer per probe. Delays do not accumulate: a probe sent late does not move the next one. Unless the
 * engine's loop stalled (the process stopped, the host paused) and the walk fell a whole interval behind: then
 * the rest of the grid {@linkplain #catchUp moves later}, so that the probes missed leave an interval apart, not
 * in a burst that rate-limiting routers would drop and report as loss. (The loop decides what is a stall.)
 *
 * <p>A shard walks only its own targets of a task: {@code gridIndex} lists their places in the whole
 * task's grid, in increasing order.
 */
final class SendGrid {

    /** Longest gap between the first probes of two consecutive targets of a task. */
    static final long MAX_STAGGER_NANOS = 1_000_000;

    private long start;
    private final long interval;
    private final long stagger;
    private final int count;
    private final int[] gridIndex;
    private long round;
    private int index;

    SendGrid(long startNanos, long intervalNanos, int count, int taskTargets, int[] gridIndex) {
        this.start = startNanos;
        this.interval = intervalNanos;
        this.stagger = staggerNanos(intervalNanos, taskTargets);
        this.count = count;
        this.gridIndex = gridIndex.clone();
        if (gridIndex.length == 0) {
            round = count;
        }
    }

    /** The gap between consecutive targets' first probes for a task of this many targets. */
    static long staggerNanos(long intervalNanos, int targets) {
        return Math.min(intervalNanos / Math.max(1, targets), MAX_STAGGER_NANOS);
    }

    boolean hasNext() {
        return round < count;
    }

    /** When the next probe is due (monotonic nanoseconds); only while {@link #hasNext()}. */
    long nextDue() {
        return start + round * interval + gridIndex[index] * stagger;
    }

    /** The target (index among this grid's own targets) of the next probe. */
    int nextTarget() {
        return index;
    }

    /** The sequence number of the next probe: its round. */
    long nextSeq() {
        return round;
    }

    void advance() {
        if (++index == gridIndex.length) {
            index = 0;
            round++;
        }
    }

    /**
     * If the next probe is due a whole interval or more (plus {@code tolerance}) before {@code now}, moves the
     * rest of the grid later by whole intervals: the next probe is then late by less than an interval, and each
     * target's later probes leave an interval apart again. No probe is skipped; the task takes longer.
     *
     * @return how far the grid moved, in nanoseconds (0 if it did not)
     */
    long catchUp(long now, long tolerance) {
        if (!hasNext() || interval == 0) { // with no interval, every probe is due at once by design
            return 0;
        }
        long late = now - nextDue();
        if (late < interval + tolerance) {
            return 0;
        }
        long moved = late / interval * interval;
        start += moved;
        return moved;
    }

    /** Ends the grid: no probe is due any more. */
    void stop() {
        round = count;
    }
}
