package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeListener;

/**
 * Runs ping tasks. The hub uses it in-process; agents run it for tasks received over the broker.
 */
public interface ProbeEngine extends AutoCloseable {

    /**
     * Starts a task and returns at once. The listener receives the task's events from the engine's own
     * thread, then exactly one {@link ProbeListener#onFinished}.
     */
    RunningTask start(PingTask task, ProbeListener listener);

    /** Stops the engine; tasks still running end with an {@code engine_stopped} error. */
    @Override
    void close();
}
