package io.mimoping.agent.bench;

import java.lang.management.ManagementFactory;

/** CPU time of this process and of chosen threads, and what chosen threads allocated (the hub's benchmarks use it too). */
public final class Cpu {

    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** CPU nanoseconds this process used so far (all threads: engine, listeners, JIT, GC). */
    public long process() {
        return os.getProcessCpuTime();
    }

    /** CPU nanoseconds these threads used so far. */
    long threads(long[] ids) {
        long total = 0;
        for (long id : ids) {
            total += Math.max(0, threads.getThreadCpuTime(id));
        }
        return total;
    }

    /** Bytes these threads allocated on the heap so far. */
    long allocated(long[] ids) {
        long total = 0;
        for (long bytes : threads.getThreadAllocatedBytes(ids)) {
            total += Math.max(0, bytes);
        }
        return total;
    }
}
