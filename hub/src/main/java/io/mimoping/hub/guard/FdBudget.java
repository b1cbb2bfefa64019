package io.mimoping.hub.guard;

import com.sun.management.UnixOperatingSystemMXBean;

import java.lang.management.ManagementFactory;

/**
 * The process's file descriptors: its limit ({@code RLIMIT_NOFILE}; the JVM raises the soft limit to the hard
 * one as it starts) and how many are open. Each connection holds one, and so does everything else the hub
 * opens: jars, logs, the engine's sockets, RabbitMQ, the gRPC channels to its agents.
 *
 * @param limit most descriptors the process may hold
 * @param open  descriptors open now
 */
public record FdBudget(long limit, long open) {

    /** Descriptors kept, beyond those open at start, for what the hub opens later (agents' channels, files). */
    public static final int RESERVE = 256;
    /** Fewest connections a listener is given, however low the limit. */
    static final int MIN_CONNECTIONS = 16;

    /** This process's descriptors now. */
    public static FdBudget now() {
        UnixOperatingSystemMXBean os = (UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new FdBudget(os.getMaxFileDescriptorCount(), os.getOpenFileDescriptorCount());
    }

    /**
     * How many connections the listener may hold when it starts now: three quarters of what is left after the
     * descriptors open now and {@value #RESERVE} more; the last quarter is for what grows with the connections
     * (a gRPC channel to each agent that registers, files).
     */
    public int connections() {
        long left = limit - open - RESERVE;
        return (int) Math.clamp(left * 3 / 4, MIN_CONNECTIONS, Integer.MAX_VALUE);
    }
}
