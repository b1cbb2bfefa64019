package io.mimoping.agent.engine;

/** A task the engine runs. */
public interface RunningTask {

    /**
     * Stops sending probes at once and finishes the task: its listener may first get the statistics so far of
     * each target that had sent and not finished (the probe engine reports them, probes still in flight counted as
     * sent and not received; an agent's remote run has none to give), then
     * {@link io.mimoping.bridge.probe.ProbeListener#onFinished} with the counts so far, and no further event.
     * Does nothing if the task already finished.
     */
    void cancel();
}
