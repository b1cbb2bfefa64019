package io.mimoping.bridge.wire;

import io.mimoping.bridge.probe.PingTask;

/** What a hub tells an agent, on the agent's task queue. */
public sealed interface Command {

    /** The task the command is about. */
    String taskId();

    /** Run this task and report to the hub's reply queue. */
    record Run(PingTask task) implements Command {
        @Override
        public String taskId() {
            return task.id();
        }
    }

    /** Stop this task now and forget its reports: its client went away, or the hub no longer follows it. */
    record Cancel(String taskId, String reason) implements Command {
    }

    /**
     * The hub has every message of the task's stream from this agent numbered below {@code received}
     * (the end message counts as number {@link Report.End#batches()}): the agent may forget them.
     */
    record Ack(String taskId, long received) implements Command {
    }
}
