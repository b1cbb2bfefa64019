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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Carries one task's events from the engine to the hub's reply queue: small numbered batches, sent
 * within {@link #FLUSH} of the first event in them, an empty batch every {@link #ALIVE} while nothing
 * happens (so the hub knows the agent still runs the task), and a typed end message with the counts.
 * The engine thread only enqueues; a virtual thread of this reporter publishes.
 */
final class TaskReporter implements ProbeListener {

    static final Duration FLUSH = Duration.ofMillis(5);
    static final Duration ALIVE = Duration.ofSeconds(1);
    static final int MAX_BATCH = 128;

    private sealed interface Item {
    }

    private record Event(ProbeEvent event) implements Item {
    }

    private record Finished(TaskTotals totals) implements Item {
    }

    private final String taskId;
    private final String agent;
    private final String replyTo;
    private final ConfirmingPublisher publisher;
    private final Runnable onDone;
    private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private long batches;

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
        List<ProbeEvent> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (true) {
                Item item = queue.poll(ALIVE.toMillis(), TimeUnit.MILLISECONDS);
                if (item == null) {
                    publish(new Report.Batch(taskId, agent, batches++, List.of()));
                    continue;
                }
                long flushAt = System.nanoTime() + FLUSH.toNanos();
                while (item instanceof Event(ProbeEvent event)) {
                    batch.add(event);
                    long wait = flushAt - System.nanoTime();
                    if (batch.size() >= MAX_BATCH || wait <= 0) {
                        break;
                    }
                    item = queue.poll(wait, TimeUnit.NANOSECONDS);
                }
                if (!batch.isEmpty()) {
                    publish(new Report.Batch(taskId, agent, batches++, batch));
                    batch.clear();
                }
                if (item instanceof Finished(TaskTotals totals)) {
                    publish(new Report.End(taskId, agent, totals, batches));
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            onDone.run();
        }
    }

    private void publish(Report report) {
        publisher.publish("", replyTo, true, Topology.properties().correlationId(taskId).build(),
                WireCodec.encode(report));
    }
}
