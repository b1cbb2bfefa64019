package io.mimoping.agent.icmp;

import java.nio.ByteBuffer;

/**
 * Walks the control messages ({@code struct cmsghdr} on 64-bit Linux: length, level, type, then the data,
 * each padded to 8 bytes) of one received message, in native byte order. One reusable cursor per buffer:
 * nothing is allocated per message. A malformed header (shorter than a header) ends the walk.
 *
 * <pre>{@code
 * for (ControlMessages m = messages.of(control, controlLength); m.next(); ) {
 *     if (m.level() == LibC.SOL_SOCKET && m.type() == LibC.SO_TIMESTAMPNS) { ... m.timespecNanos() ... }
 * }
 * }</pre>
 */
final class ControlMessages {

    private static final int HEADER = 16;

    private final ByteBuffer buffer;
    private int start;
    private long length;
    private long at;
    private int current;

    /** @param buffer the memory holding control buffers, in native byte order */
    ControlMessages(ByteBuffer buffer) {
        this.buffer = buffer;
    }

    /**
     * Starts a walk over the control buffer at {@code start} in the buffer, holding {@code length} bytes
     * (the {@code msg_controllen} the kernel set).
     */
    ControlMessages of(int start, long length) {
        this.start = start;
        this.length = length;
        at = 0;
        current = -1;
        return this;
    }

    /** Moves to the next message; false when there is none left. */
    boolean next() {
        if (current >= 0) {
            at += (buffer.getLong(current) + 7) & ~7L;
        }
        if (at + HEADER > length) {
            return false;
        }
        int c = (int) (start + at);
        if (buffer.getLong(c) < HEADER) {
            return false;
        }
        current = c;
        return true;
    }

    int level() {
        return buffer.getInt(current + 8);
    }

    int type() {
        return buffer.getInt(current + 12);
    }

    /** Where the message's data starts in the buffer. */
    int data() {
        return current + HEADER;
    }

    /** The data read as a {@code struct timespec}: nanoseconds since the epoch. */
    long timespecNanos() {
        return buffer.getLong(data()) * 1_000_000_000L + buffer.getLong(data() + 8);
    }
}
