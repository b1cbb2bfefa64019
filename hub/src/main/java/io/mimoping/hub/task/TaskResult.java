package io.mimoping.hub.task;

import io.mimoping.bridge.probe.TaskTotals;

import java.util.List;

/**
 * How a task ended.
 *
 * @param totals     the counts of the {@code end} event
 * @param unanswered targets (per pinging side) that got no reply at all, in the order they finished
 */
public record TaskResult(TaskTotals totals, List<String> unanswered) {

    public TaskResult {
        unanswered = List.copyOf(unanswered);
    }
}
