package io.mimoping.agent.engine;

import java.time.Instant;

/** The engine's two clocks: monotonic for scheduling, wall-clock for send times and kernel timestamps. */
interface EngineClock {

    /** Monotonic nanoseconds (as {@link System#nanoTime()}). */
    long monotonicNanos();

    /** Nanoseconds since the epoch, the clock of the kernel's SO_TIMESTAMPNS. */
    long epochNanos();

    /** A clock for one thread that reads the wall clock without allocating. */
    static EngineClock forOneThread() {
        io.mimoping.agent.icmp.WallClock wall = new io.mimoping.agent.icmp.WallClock();
        return new EngineClock() {
            @Override
            public long monotonicNanos() {
                return System.nanoTime();
            }

            @Override
            public long epochNanos() {
                return wall.nanos();
            }
        };
    }

    EngineClock SYSTEM = new EngineClock() {
        @Override
        public long monotonicNanos() {
            return System.nanoTime();
        }

        @Override
        public long epochNanos() {
            Instant now = Instant.now();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
    };
}
