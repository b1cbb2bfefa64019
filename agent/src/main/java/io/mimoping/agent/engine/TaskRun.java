package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TaskTotals;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A task as the event dispatcher sees it: its listener, counts, and how many targets and shard parts are
 * still going. Owned by the dispatcher thread, except {@link #cancelled}, which any thread may set.
 */
final class TaskRun {

    private static final Logger LOG = Logger.getLogger(TaskRun.class.getName());

    final PingTask task;
    private final ProbeListener listener;
    private final long startNanos;
    volatile boolean cancelled;
    boolean begun;
    TaskPart[] parts = new TaskPart[0];
    /** Parts not done yet: the task finishes with the last. */
    int openParts;
    boolean stopReported;
    long sent;
    long received;
    long timeouts;
    long errors;
    boolean finished;

    TaskRun(PingTask task, ProbeListener listener, long startNanos) {
        this.task = task;
        this.listener = listener;
        this.startNanos = startNanos;
    }

    void emit(ProbeEvent event) {
        if (event instanceof ProbeError) {
            errors++;
        }
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "listener of task " + task.id() + " failed on " + event, e);
        }
    }

    void finish(long nowNanos) {
        if (!finished) {
            finished = true;
            try {
                listener.onFinished(new TaskTotals(sent, received, timeouts, errors,
                        Duration.ofNanos(nowNanos - startNanos)));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "listener of task " + task.id() + " failed on finish", e);
            }
        }
    }
}
