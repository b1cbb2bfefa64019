package io.mimoping.bridge.wire;

import io.mimoping.bridge.probe.PingTask;

/** What a hub tells an agent, on the agent's task queue. */
public sealed interface Command {

    /** Run this task and report to the hub's reply queue. */
    record Run(PingTask task) implements Command {
    }

    /** Stop this task now (its client went away). */
    record Cancel(String taskId, String reason) implements Command {
    }
}
