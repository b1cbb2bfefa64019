package io.mimoping.hub.event;

import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.task.TaskRequest;

/**
 * Where one task's events go, in order: {@link #task} first, then probe events and errors, {@link #end} last.
 * A method that throws means the client went away: the task stops. One sink per stream, used by one thread.
 */
public interface EventSink {

    /** The first event: the task id and the request as it runs, defaults filled in. */
    void task(TaskRequest request);

    /** A probe event of pinging side {@code from}. */
    void probe(String from, ProbeEvent event);

    /** An error about pinging side {@code agent} itself, such as an unknown agent in {@code from}. */
    void agentError(String agent, ProbeError error);

    /** The last event: the task's totals. */
    void end(TaskTotals totals);

    /**
     * Sends the events written so far; called before the task waits for more. A sink that sends each event
     * as it is written needs nothing here.
     */
    default void flush() {
    }

    /** Nothing happened for a while: checks the client is still there (throws if it is not). */
    void keepAlive();
}
