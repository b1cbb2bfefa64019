package io.mimoping.bridge.probe;

/**
 * Receives a running task's events. Called from the pinging side's own thread: implementations
 * must return quickly and never block (hand the event to a queue).
 */
public interface ProbeListener {

    /** One event, in the order it happened. */
    void onEvent(ProbeEvent event);

    /** The task finished (every probe answered, timed out or failed) or was cancelled; no event follows. */
    void onFinished(TaskTotals totals);
}
