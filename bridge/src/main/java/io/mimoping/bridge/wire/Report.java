package io.mimoping.bridge.wire;

import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.TaskTotals;

import java.util.List;

/** What an agent tells the hub about one task, on the hub's reply queue. */
public sealed interface Report {

    String taskId();

    /** The agent's name. */
    String from();

    /**
     * Events in the order they happened; an empty batch says the agent still runs the task.
     *
     * @param seq number of the batch within the (task, agent) stream, from 0
     */
    record Batch(String taskId, String from, long seq, List<ProbeEvent> events) implements Report {
        public Batch {
            events = List.copyOf(events);
        }
    }

    /**
     * The agent finished the task.
     *
     * @param batches batches published before this message
     */
    record End(String taskId, String from, TaskTotals totals, long batches) implements Report {
    }
}
