package io.mimoping.agent.lab;

import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Everything a task reported, in order, and its totals: what the lab's tests assert on.
 *
 * @param events the task's events as the listener got them
 * @param totals the totals of {@code onFinished}
 */
record RecordedTask(List<ProbeEvent> events, TaskTotals totals) {

    /** Slack on top of the task's own length before waiting for it counts as a failure. */
    private static final Duration SLACK = Duration.ofSeconds(10);

    RecordedTask {
        events = List.copyOf(events);
    }

    /** Runs a task to its end and records it. */
    static RecordedTask run(ProbeEngine engine, PingTask task)
            throws InterruptedException, ExecutionException, TimeoutException {
        return run(engine, task, event -> { });
    }

    /**
     * Runs a task to its end and records it, first handing each event to {@code onEngineThread} on the
     * engine's own thread (to hold that thread up, as a busy host would).
     */
    static RecordedTask run(ProbeEngine engine, PingTask task, Consumer<ProbeEvent> onEngineThread)
            throws InterruptedException, ExecutionException, TimeoutException {
        // Not a copy-on-write list: at 10,000 events its quadratic copying starved a loaded host for seconds.
        Queue<ProbeEvent> events = new ConcurrentLinkedQueue<>();
        CompletableFuture<TaskTotals> done = new CompletableFuture<>();
        engine.start(task, new ProbeListener() {
            @Override
            public void onEvent(ProbeEvent event) {
                onEngineThread.accept(event);
                events.add(event);
            }

            @Override
            public void onFinished(TaskTotals totals) {
                done.complete(totals);
            }
        });
        Duration limit = task.interval().multipliedBy(task.count()).plus(task.timeout()).plus(SLACK);
        TaskTotals totals = done.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        return new RecordedTask(List.copyOf(events), totals);
    }

    /** The events of one target, in order. */
    List<ProbeEvent> of(String target) {
        return events.stream().filter(e -> target.equals(e.target())).toList();
    }

    /** The events of one probe, in order. */
    List<ProbeEvent> of(String target, long seq) {
        return of(target).stream().filter(e -> switch (e) {
            case Reply reply -> reply.seq() == seq;
            case Timeout timeout -> timeout.seq() == seq;
            default -> false;
        }).toList();
    }

    /** One target's replies of one kind, in order. */
    List<Reply> replies(String target, Reply.Kind kind) {
        return of(target).stream().filter(e -> e instanceof Reply r && r.kind() == kind).map(Reply.class::cast).toList();
    }

    /** Sequence numbers of one target's timeouts, in order. */
    List<Long> timedOut(String target) {
        return of(target).stream().filter(e -> e instanceof Timeout).map(e -> ((Timeout) e).seq()).toList();
    }

    /** The statistics of one target. */
    TargetStats stats(String target) {
        List<TargetStats> stats = of(target).stream().filter(e -> e instanceof TargetStats)
                .map(TargetStats.class::cast).toList();
        if (stats.size() != 1) {
            throw new AssertionError("expected one ping_stats for " + target + ", got " + stats.size() + ": " + events);
        }
        return stats.getFirst();
    }
}
