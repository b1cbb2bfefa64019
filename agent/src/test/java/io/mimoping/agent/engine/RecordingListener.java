package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Records a task's events and its end, and notices anything that breaks the listener contract. */
final class RecordingListener implements ProbeListener {

    final List<ProbeEvent> events = new CopyOnWriteArrayList<>();
    final AtomicInteger eventsAfterFinish = new AtomicInteger();
    final AtomicInteger finishes = new AtomicInteger();
    private final CompletableFuture<TaskTotals> finished = new CompletableFuture<>();
    private volatile long finishedAtNanos;

    @Override
    public void onEvent(ProbeEvent event) {
        if (finished.isDone()) {
            eventsAfterFinish.incrementAndGet();
        }
        events.add(event);
    }

    @Override
    public void onFinished(TaskTotals totals) {
        finishes.incrementAndGet();
        finishedAtNanos = System.nanoTime();
        finished.complete(totals);
    }

    TaskTotals await(Duration limit) throws Exception {
        return finished.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** {@link System#nanoTime()} when onFinished arrived. */
    long finishedAtNanos() {
        return finishedAtNanos;
    }

    List<ProbeEvent> of(String target) {
        return events.stream().filter(e -> target.equals(e.target())).toList();
    }

    List<Reply> replies(String target) {
        return of(target).stream().filter(Reply.class::isInstance).map(Reply.class::cast).toList();
    }

    List<TargetStats> stats(String target) {
        return of(target).stream().filter(TargetStats.class::isInstance).map(TargetStats.class::cast).toList();
    }

    <T extends ProbeEvent> List<T> all(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
