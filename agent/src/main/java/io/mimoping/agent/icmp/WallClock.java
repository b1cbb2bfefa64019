package io.mimoping.agent.icmp;

import com.sun.jna.Memory;

/**
 * CLOCK_REALTIME in nanoseconds, the clock of the kernel's packet timestamps, read without allocating
 * ({@code Instant.now()} may allocate on every call). Owned by one thread: each has its own.
 */
public final class WallClock {

    private final Memory timespec = new Memory(16);

    /** Nanoseconds since the epoch. */
    public long nanos() {
        if (LibC.clock_gettime(LibC.CLOCK_REALTIME, timespec) != 0) {
            throw Errno.failure("clock_gettime(CLOCK_REALTIME)", Errno.last());
        }
        return timespec.getLong(0) * 1_000_000_000L + timespec.getLong(8);
    }
}
