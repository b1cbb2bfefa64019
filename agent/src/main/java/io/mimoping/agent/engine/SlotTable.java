package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.Reply;

import java.util.Arrays;

/**
 * Every probe in flight, in parallel arrays indexed by slot: O(1) to take, find and free, no object per
 * probe, and no limit but memory (it grows by doubling, so a million outstanding probes are a few
 * tens of megabytes). A reply names its slot by the key in its payload: slot index in the low 32 bits,
 * the slot's generation in the high 32, so a reply to a probe whose slot was freed and taken again never
 * matches the new probe. Owned by one engine shard thread.
 */
final class SlotTable {

    static final byte FREE = 0;
    static final byte WAITING = 1;
    static final byte ANSWERED = 2;
    static final byte TIMED_OUT = 3;
    static final byte LATE_SEEN = 4;

    private static final int INITIAL = 1024;

    TaskPart[] part;
    int[] target;
    long[] seq;
    /** Wall-clock nanoseconds read just before the send call: the fallback when the kernel gives no TX stamp. */
    long[] sentEpoch;
    /** Monotonic nanoseconds of the send: deadlines count from here. */
    long[] sentMono;
    /** The kernel's transmit timestamp (epoch nanoseconds), 0 until it is read. */
    long[] txStamp;
    byte[] state;
    private int[] generation;
    private int[] free;
    private int freeTop;
    private int capacity;
    private int inUse;
    private int peak;

    SlotTable() {
        this(INITIAL);
    }

    SlotTable(int initialCapacity) {
        capacity = 0;
        part = new TaskPart[0];
        target = new int[0];
        seq = new long[0];
        sentEpoch = new long[0];
        sentMono = new long[0];
        txStamp = new long[0];
        state = new byte[0];
        generation = new int[0];
        free = new int[0];
        grow(Math.max(1, initialCapacity));
    }

    /** Takes a free slot for probe {@code seq} of a part's target; its state is {@link #WAITING}. */
    int allocate(TaskPart owner, int targetIndex, long probeSeq) {
        if (freeTop == 0) {
            grow(capacity * 2);
        }
        int slot = free[--freeTop];
        part[slot] = owner;
        target[slot] = targetIndex;
        seq[slot] = probeSeq;
        txStamp[slot] = 0;
        state[slot] = WAITING;
        if (++inUse > peak) {
            peak = inUse;
        }
        return slot;
    }

    /** Frees a slot: a reply carrying its old key no longer finds it. */
    void release(int slot) {
        if (state[slot] == FREE) {
            throw new IllegalStateException("slot " + slot + " is free already");
        }
        state[slot] = FREE;
        part[slot] = null;
        generation[slot]++;
        free[freeTop++] = slot;
        inUse--;
    }

    /** The key a probe in this slot carries in its payload. */
    long key(int slot) {
        return (long) generation[slot] << 32 | slot;
    }

    /** The slot a key names, or -1 if it names no probe in flight (unknown, freed or reused). */
    int find(long key) {
        int slot = (int) key;
        if (slot < 0 || slot >= capacity || state[slot] == FREE || generation[slot] != (int) (key >>> 32)) {
            return -1;
        }
        return slot;
    }

    /**
     * A reply matched the probe in this slot: what it is, given what came before.
     *
     * @return the reply's kind, or {@code null} if it is to be ignored (a second late reply)
     */
    Reply.Kind accept(int slot) {
        switch (state[slot]) {
            case WAITING -> {
                state[slot] = ANSWERED;
                return Reply.Kind.FIRST;
            }
            case ANSWERED -> {
                return Reply.Kind.DUPLICATE;
            }
            case TIMED_OUT -> {
                state[slot] = LATE_SEEN;
                return Reply.Kind.LATE;
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * The probe's deadline passed.
     *
     * @return true if it had no reply, so it timed out now
     */
    boolean expire(int slot) {
        if (state[slot] == WAITING) {
            state[slot] = TIMED_OUT;
            return true;
        }
        return false;
    }

    int inUse() {
        return inUse;
    }

    /** Most slots in use at once so far. */
    int peak() {
        return peak;
    }

    int capacity() {
        return capacity;
    }

    private void grow(int to) {
        int from = capacity;
        part = Arrays.copyOf(part, to);
        target = Arrays.copyOf(target, to);
        seq = Arrays.copyOf(seq, to);
        sentEpoch = Arrays.copyOf(sentEpoch, to);
        sentMono = Arrays.copyOf(sentMono, to);
        txStamp = Arrays.copyOf(txStamp, to);
        state = Arrays.copyOf(state, to);
        generation = Arrays.copyOf(generation, to);
        free = Arrays.copyOf(free, to);
        // Lowest slots first, so a small engine keeps touching the same few cache lines.
        for (int slot = to - 1; slot >= from; slot--) {
            free[freeTop++] = slot;
        }
        capacity = to;
    }
}
