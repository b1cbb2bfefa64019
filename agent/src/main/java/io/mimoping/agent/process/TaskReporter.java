package io.mimoping.agent.process;

import io.mimoping.bridge.amqp.ConfirmingPublisher;
import io.mimoping.bridge.amqp.Topology;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.wire.Report;
import io.mimoping.bridge.wire.WireCodec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Carries one task's events from the engine to the hub's reply queue: numbered batches, an empty batch
 * every {@link #ALIVE} while nothing happens (so the hub knows the agent still runs the task), and a
 * typed end message with the counts. The engine thread only enqueues; a virtual thread of this reporter
 * publishes. A batch is whatever is queued when the reporter gets to it (at most {@link #MAX_BATCH}):
 * nothing waits for a timer, and events that arrive while one batch is being published form the next.
 *
 * <p>Reports are transient messages (no disk write per batch), so a broker restart can lose some the broker
 * had confirmed: the reporter keeps every report until the hub acknowledges it ({@link #acked}) and
 * publishes the unacknowledged ones again when asked ({@link #republish}, after the connection recovers).
 * The hub keeps one copy of each batch by its number.
 */
final class TaskReporter implements ProbeListener {

    static final Duration ALIVE = Duration.ofSeconds(1);
    static final int MAX_BATCH = 128;

    private sealed interface Item {
    }

    private record Event(ProbeEvent event) implements Item {
    }

    private record Finished(TaskTotals totals) implements Item {
    }

    /** A report published (first at {@code firstNanos}, last at {@code publishedNanos}), not acknowledged yet. */
    private record Unacked(byte[] body, long firstNanos, long publishedNanos) {
    }

    private final String taskId;
    private final String agent;
    private final String replyTo;
    private final ConfirmingPublisher publisher;
    private final Runnable onDone;
    private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    /** By number; the end message is number {@code batches}. Guarded by this. */
    private final NavigableMap<Long, Unacked> unacked = new TreeMap<>();
    private long batches;
    /** Guarded by this. */
    private boolean ended;
    /** The hub no longer follows the task: nothing more is published or kept. Guarded by this. */
    private boolean discarded;
    /** The oldest report when the unacknowledged ones were last published again for waiting. Guarded by this. */
    private long republishedFrom = -1;
    /** Since when the hub's queue was seen without a consumer on every look; -1 if it had one. Guarded by this. */
    private long hubMissingSince = -1;
    /** When the hub's queue was last looked at. Guarded by this. */
    private long lastLookNanos;

    TaskReporter(String taskId, String agent, String replyTo, ConfirmingPublisher publisher, Runnable onDone) {
        this.taskId = taskId;
        this.agent = agent;
        this.replyTo = replyTo;
        this.publisher = publisher;
        this.onDone = onDone;
        Thread.ofVirtual().name("mimoping-report-" + taskId).start(this::run);
    }

    @Override
    public void onEvent(ProbeEvent event) {
        queue.add(new Event(event));
    }

    @Override
    public void onFinished(TaskTotals totals) {
        queue.add(new Finished(totals));
    }

    private void run() {
        List<Item> taken = new ArrayList<>(MAX_BATCH);
        List<ProbeEvent> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (true) {
                Item first = queue.poll(ALIVE.toMillis(), TimeUnit.MILLISECONDS);
                if (first == null) {
                    publish(new Report.Batch(taskId, agent, batches++, List.of()));
                    continue;
                }
                taken.add(first);
                queue.drainTo(taken, MAX_BATCH - 1);
                TaskTotals finished = null;
                for (Item item : taken) {
                    switch (item) {
                        case Event(ProbeEvent event) -> batch.add(event);
                        case Finished(TaskTotals totals) -> finished = totals;
                    }
                }
                taken.clear();
                if (!batch.isEmpty()) {
                    publish(new Report.Batch(taskId, agent, batches++, batch));
                    batch.clear();
                }
                if (finished != null) {
                    publish(new Report.End(taskId, agent, finished, batches));
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            onDone.run();
        }
    }

    /**
     * The hub has every report numbered below {@code received}: they are forgotten.
     *
     * @return whether the hub has the whole stream, end included: nothing is left to keep
     */
    synchronized boolean acked(long received) {
        unacked.headMap(received).clear();
        return ended && unacked.isEmpty();
    }

    /** Publishes every report not acknowledged yet again, in order. */
    void republish() {
        List<byte[]> again;
        synchronized (this) {
            long now = System.nanoTime();
            unacked.replaceAll((number, report) -> new Unacked(report.body(), report.firstNanos(), now));
            again = unacked.values().stream().map(Unacked::body).toList();
        }
        again.forEach(this::send);
    }

    /**
     * Publishes the reports not acknowledged yet again if the oldest was last published longer than
     * {@code limit} ago:
     * the hub is missing it (lost without the connection dropping) or has stopped. Once per oldest
     * report, so that a hub that has stopped does not get the backlog again and again.
     *
     * @return how many were published again
     */
    int republishIfWaiting(Duration limit) {
        synchronized (this) {
            if (!unacknowledgedFor(limit) || unacked.firstKey() == republishedFrom) {
                return 0;
            }
            republishedFrom = unacked.firstKey();
        }
        republish();
        return unacknowledged();
    }

    /** The hub's queue these reports go to. */
    String replyTo() {
        return replyTo;
    }

    /**
     * What a look at the hub's queue found: {@code missing} if it had no consumer (or no longer exists). Looks
     * more than {@code gap} apart start a new series: between them the hub may have been back.
     *
     * @return how long, in nanoseconds, every look of the series has found it missing; 0 after a look that found it
     */
    synchronized long hubMissing(boolean missing, Duration gap) {
        long now = System.nanoTime();
        if (!missing || now - lastLookNanos > gap.toNanos()) {
            hubMissingSince = -1;
        }
        lastLookNanos = now;
        if (!missing) {
            return 0;
        }
        if (hubMissingSince < 0) {
            hubMissingSince = now;
        }
        return now - hubMissingSince;
    }

    /** How many reports wait for the hub's acknowledgement. */
    synchronized int unacknowledged() {
        return unacked.size();
    }

    /** Whether the oldest report not acknowledged yet was last published longer than {@code limit} ago. */
    synchronized boolean unacknowledgedFor(Duration limit) {
        return !unacked.isEmpty() && System.nanoTime() - unacked.firstEntry().getValue().publishedNanos() > limit.toNanos();
    }

    /**
     * Whether the oldest report not acknowledged yet was first published longer than {@code limit} ago: the hub
     * has acknowledged nothing new for that long, however often the reports went out again.
     */
    synchronized boolean waitingFor(Duration limit) {
        return !unacked.isEmpty() && System.nanoTime() - unacked.firstEntry().getValue().firstNanos() > limit.toNanos();
    }

    /** The hub no longer follows the task: stops publishing and forgets what it kept. */
    synchronized void discard() {
        discarded = true;
        unacked.clear();
    }

    private void publish(Report report) {
        byte[] body = WireCodec.encode(report);
        synchronized (this) {
            if (discarded) {
                return;
            }
            long now = System.nanoTime();
            switch (report) {
                case Report.Batch batch -> unacked.put(batch.seq(), new Unacked(body, now, now));
                case Report.End end -> {
                    unacked.put(end.batches(), new Unacked(body, now, now));
                    ended = true;
                }
            }
        }
        send(body);
    }

    private void send(byte[] body) {
        publisher.publish("", replyTo, true, Topology.streamProperties().correlationId(taskId).build(), body);
    }
}
