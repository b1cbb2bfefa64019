package io.mimoping.agent.icmp;

import com.sun.jna.Memory;

/** Real-time scheduling for a thread whose wake-ups must be punctual, such as the impairment lab's responder. */
public final class RealtimeScheduling {

    private RealtimeScheduling() {
    }

    /**
     * Runs the current thread, and only it, under SCHED_FIFO at this priority: when it wakes it preempts
     * every ordinary thread of the host, and its sleeps end without timer slack. Needs CAP_SYS_NICE (root).
     * The kernel's real-time throttling still leaves other threads 5 % of each CPU.
     *
     * @param priority 1 (lowest) to 99
     */
    public static void enterOnCurrentThread(int priority) {
        if (priority < 1 || priority > 99) {
            throw new IllegalArgumentException("SCHED_FIFO priority outside [1, 99]: " + priority);
        }
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("a virtual thread cannot keep a scheduling policy");
        }
        try (Memory param = new Memory(4)) {
            param.setInt(0, priority);
            if (LibC.sched_setscheduler(0, LibC.SCHED_FIFO, param) != 0) {
                throw Errno.failure("sched_setscheduler(SCHED_FIFO, " + priority + ")", Errno.last());
            }
        }
    }
}
