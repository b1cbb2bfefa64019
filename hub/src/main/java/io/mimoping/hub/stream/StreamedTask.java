package io.mimoping.hub.stream;

import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRunner;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A task started with {@code POST /tasks}: it runs in the background and keeps its events for stream clients. */
public final class StreamedTask {

    /** Where a task is in its life. */
    public enum State {
        RUNNING, FINISHED, CANCELLED;

        /** The name on the wire, such as {@code running}. */
        public String wireName() {
            return name().toLowerCase();
        }
    }

    private final String id;
    private final TaskRequest request;
    private final Instant createdAt;
    private final EventLog events;
    private final TaskRunner.Cancellation cancellation = new TaskRunner.Cancellation();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean cancelRequested;
    private volatile State state = State.RUNNING;
    private volatile Instant finishedAt;
    private volatile TaskTotals totals;

    StreamedTask(String id, TaskRequest request, Instant createdAt, EventLog events) {
        this.id = id;
        this.request = request;
        this.createdAt = createdAt;
        this.events = events;
    }

    public String id() {
        return id;
    }

    public TaskRequest request() {
        return request;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public EventLog events() {
        return events;
    }

    public State state() {
        return state;
    }

    /** When the task's {@code end} event was written. */
    public Optional<Instant> finishedAt() {
        return Optional.ofNullable(finishedAt);
    }

    /** The counts of the {@code end} event, once it was written. */
    public Optional<TaskTotals> totals() {
        return Optional.ofNullable(totals);
    }

    /** Stops the task: its stream gets an {@code error} event with code {@code cancelled}, then {@code end}. */
    public void cancel(String reason) {
        cancelRequested = true;
        cancellation.cancel(reason);
    }

    /** Waits until the task's last event is written; whether it was within {@code timeout}. */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    TaskRunner.Cancellation cancellation() {
        return cancellation;
    }

    void finished(TaskTotals totals, Instant at) {
        this.totals = totals;
        this.finishedAt = at;
        this.state = cancelRequested ? State.CANCELLED : State.FINISHED;
        events.end();
        done.countDown();
    }
}
