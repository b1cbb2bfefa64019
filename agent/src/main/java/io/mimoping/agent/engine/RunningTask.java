package io.mimoping.agent.engine;

/** A task the engine runs. */
public interface RunningTask {

    /**
     * Stops sending probes at once and finishes the task: its listener gets
     * {@link io.mimoping.bridge.probe.ProbeListener#onFinished} with the counts so far, and no further event.
     * Does nothing if the task already finished.
     */
    void cancel();
}
