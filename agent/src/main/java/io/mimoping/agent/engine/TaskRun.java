package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TaskTotals;

import java.time.Duration;

/** A task inside the engine: its listener, counts and how many targets are still going. Engine thread only. */
final class TaskRun {

    final PingTask task;
    private final ProbeListener listener;
    private final long startNanos;
    int unfinishedTargets;
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
        listener.onEvent(event);
    }

    /** One target finished; when it was the last, so is the task. */
    void targetFinished(long nowNanos) {
        if (--unfinishedTargets == 0) {
            finish(nowNanos);
        }
    }

    void finish(long nowNanos) {
        if (!finished) {
            finished = true;
            listener.onFinished(new TaskTotals(sent, received, timeouts, errors,
                    Duration.ofNanos(nowNanos - startNanos)));
        }
    }
}
