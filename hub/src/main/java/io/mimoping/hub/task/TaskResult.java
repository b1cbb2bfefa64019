package io.mimoping.hub.task;

import io.mimoping.bridge.probe.TaskTotals;

import java.util.List;

/**
 * How a task ended.
 *
 * @param totals     the counts of the {@code end} event
 * @param unanswered targets (per pinging side) that got no reply at all, in the request's order
 * @param unresolved targets (per pinging side) whose name did not resolve, in the request's order; not among
 *                   {@code unanswered}
 */
public record TaskResult(TaskTotals totals, List<String> unanswered, List<String> unresolved) {

    public TaskResult {
        unanswered = List.copyOf(unanswered);
        unresolved = List.copyOf(unresolved);
    }
}
