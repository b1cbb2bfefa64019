package io.mimoping.hub.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One task's events as JSON (UTF-8, no line end), numbered by cursor from 0: the newest kept, within a
 * count and a byte budget. One writer (the task's thread) appends; any number of readers read from their
 * own cursor and never slow the writer: a reader that falls behind finds a {@link Gap} instead of what was
 * dropped.
 */
public final class EventLog {

    /** Events read in one batch at most, and their bytes at most (beyond the first event). */
    static final int BATCH_EVENTS = 1024;
    static final int BATCH_BYTES = 256 * 1024;

    private final int maxEvents;
    private final long maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Grows by doubling from 64 slots, up to {@link #maxEvents}. */
    private byte[][] ring;
    private int head;
    private int size;
    /** Cursor of the oldest event kept. */
    private long first;
    private long bytes;
    private boolean ended;

    EventLog(int maxEvents, long maxBytes) {
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.ring = new byte[Math.min(64, maxEvents)][];
    }

    /** Events {@code from} to {@code to} (both included) are no longer kept. */
    public record Gap(long from, long to) {
    }

    /**
     * What a reader gets.
     *
     * @param gap    events the reader asked for that are gone, or {@code null}
     * @param start  cursor of {@code events.get(0)}
     * @param events the events, oldest first
     * @param ended  the task has ended and nothing comes after these events
     */
    public record Batch(Gap gap, long start, List<byte[]> events, boolean ended) {

        /** The cursor to read from next. */
        public long next() {
            return start + events.size();
        }
    }

    void append(byte[] event) {
        lock.lock();
        try {
            if (size == ring.length) {
                if (size < maxEvents) {
                    grow();
                } else {
                    dropOldest();
                }
            }
            ring[(head + size) % ring.length] = event;
            size++;
            bytes += event.length;
            while (bytes > maxBytes && size > 1) {
                dropOldest();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** No event comes after this: readers waiting get what there is, marked ended. */
    void end() {
        lock.lock();
        try {
            ended = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The cursor the next event will have (the number of events so far). */
    public long next() {
        return locked(() -> first + size);
    }

    /** The cursor of the oldest event kept. */
    public long first() {
        return locked(() -> first);
    }

    /** Bytes of the events kept. */
    public long bytes() {
        return locked(() -> bytes);
    }

    public boolean ended() {
        return locked(() -> ended);
    }

    private <T> T locked(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The events from cursor {@code from} on (at most a batch), waiting up to {@code wait} for one if there
     * is none yet and the task has not ended.
     *
     * @throws IllegalArgumentException if {@code from} is beyond {@link #next()}: no such event will come
     */
    public Batch read(long from, Duration wait) throws InterruptedException {
        lock.lock();
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            long next = first + size;
            if (from > next) {
                throw new IllegalArgumentException("cursor " + from + " is beyond the newest event: the next is " + next);
            }
            while (from == first + size && !ended) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            Gap gap = from < first ? new Gap(from, first - 1) : null;
            long start = Math.max(from, first);
            List<byte[]> events = new ArrayList<>((int) Math.min(BATCH_EVENTS, first + size - start));
            long taken = 0;
            for (long c = start; c < first + size && events.size() < BATCH_EVENTS; c++) {
                byte[] event = ring[(int) ((head + (c - first)) % ring.length)];
                if (!events.isEmpty() && taken + event.length > BATCH_BYTES) {
                    break;
                }
                events.add(event);
                taken += event.length;
            }
            return new Batch(gap, start, events, ended && start + events.size() == first + size);
        } finally {
            lock.unlock();
        }
    }

    private void grow() {
        byte[][] larger = new byte[Math.min(ring.length * 2, maxEvents)][];
        for (int i = 0; i < size; i++) {
            larger[i] = ring[(head + i) % ring.length];
        }
        ring = larger;
        head = 0;
    }

    private void dropOldest() {
        bytes -= ring[head].length;
        ring[head] = null;
        head = (head + 1) % ring.length;
        size--;
        first++;
    }
}
