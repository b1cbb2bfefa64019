package io.mimoping.bridge.wire;

import io.mimoping.bridge.probe.PingTask;

import java.util.Map;

/** What a hub tells an agent, on the agent's task queue. */
public sealed interface Command {

    /** Run this task and report to the hub's reply queue. */
    record Run(PingTask task) implements Command {
    }

    /**
     * Stop this task now.
     *
     * @param report whether the hub still follows the run: the agent reports what its targets measured and
     *               its end, as at a normal end; otherwise the hub no longer follows it, and the agent
     *               forgets its reports
     */
    record Cancel(String taskId, String reason, boolean report) implements Command {
    }

    /**
     * For each task (by id), the hub has every message of the stream from this agent numbered below the
     * value (the end message counts as number {@link Report.End#batches()}): the agent may forget them.
     */
    record Ack(Map<String, Long> received) implements Command {
        public Ack {
            received = Map.copyOf(received);
        }
    }
}
