package io.mimoping.agent.engine;

import java.util.concurrent.locks.LockSupport;

/**
 * A bounded single-producer single-consumer ring of event records, from one engine shard to the event
 * dispatcher: the shard writes primitive fields into preallocated arrays (no object per event) and
 * publishes a whole batch with one volatile write; the dispatcher turns records into events for the
 * listeners. When the ring is full the shard waits for the dispatcher (back-pressure, never unbounded
 * buffering) and counts the wait.
 */
final class EventRing {

    static final int REPLY = 1;
    static final int TIMEOUT = 2;
    static final int SEND_ERROR = 3;
    static final int TARGET_DONE = 4;
    /** A part stopped before its targets finished: {@code seq} holds what its unfinished targets sent. */
    static final int PART_STOPPED = 5;
    /** The same, because its shard stopped: the task gets an engine_stopped error. */
    static final int PART_FAILED = 6;
    /**
     * Before a part's PART_STOPPED or PART_FAILED, one per target that had sent and not finished: {@code seq}
     * holds what it sent; its statistics so far are reported.
     */
    static final int TARGET_STOPPED = 7;

    private final int mask;
    final TaskPart[] part;
    final int[] type;
    final int[] target;
    final long[] seq;
    final long[] rtt;
    final long[] sentEpoch;
    final int[] ttl;
    final int[] nbytes;
    final int[] id;
    final int[] kind;
    final String[] message;

    private volatile long published;
    private volatile long consumed;
    private long writeAt;
    private long consumedSeen;
    private volatile long fullWaits;

    EventRing(int capacity) {
        int size = Integer.highestOneBit(Math.max(2, capacity - 1)) << 1;
        mask = size - 1;
        part = new TaskPart[size];
        type = new int[size];
        target = new int[size];
        seq = new long[size];
        rtt = new long[size];
        sentEpoch = new long[size];
        ttl = new int[size];
        nbytes = new int[size];
        id = new int[size];
        kind = new int[size];
        message = new String[size];
    }

    // ---- producer ----

    /** The index to write the next record at; waits while the ring is full. Fill it, then {@link #next()}. */
    int claim(Runnable whileFull) {
        if (writeAt - consumedSeen > mask) {
            consumedSeen = consumed;
            if (writeAt - consumedSeen > mask) {
                publish();
                fullWaits++;
                while (writeAt - (consumedSeen = consumed) > mask) {
                    whileFull.run();
                    LockSupport.parkNanos(20_000);
                }
            }
        }
        return (int) (writeAt & mask);
    }

    void next() {
        writeAt++;
    }

    /** Makes every record written so far visible to the consumer. */
    boolean publish() {
        if (published != writeAt) {
            published = writeAt;
            return true;
        }
        return false;
    }

    /** Times the producer found the ring full. */
    long fullWaits() {
        return fullWaits;
    }

    // ---- consumer ----

    /** Records published and not consumed yet, from index {@link #consumedIndex()}. */
    long available() {
        return published - consumed;
    }

    long consumedIndex() {
        return consumed;
    }

    int index(long position) {
        return (int) (position & mask);
    }

    /** Frees records up to {@code position} (exclusive) for the producer. */
    void consumedUpTo(long position) {
        for (long p = consumed; p < position; p++) {
            int i = (int) (p & mask);
            part[i] = null;
            message[i] = null;
        }
        consumed = position;
    }
}
