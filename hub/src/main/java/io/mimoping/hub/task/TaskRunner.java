package io.mimoping.hub.task;

import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.event.EventWriter;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one task on the calling (virtual) thread and writes its events as they happen: the {@code task}
 * line, every pinging side's events, then {@code end}. In embedded mode the only pinging side is the
 * hub's own engine; agents named in {@code from} are unknown.
 *
 * <p>The engine's thread hands events over through a queue and never waits for the client. When the
 * client goes away (a write fails), the task is cancelled at once and the failure propagates.
 */
public final class TaskRunner {

    private final ProbeEngine engine;
    private final Duration keepAlive;

    /**
     * @param engine    the hub's own probe engine
     * @param keepAlive how long the stream may stay silent before a keep-alive byte checks the client is
     *                  still there; {@code null} for outputs that need none (a terminal)
     */
    public TaskRunner(ProbeEngine engine, Duration keepAlive) {
        this.engine = engine;
        this.keepAlive = keepAlive;
    }

    private sealed interface Item {
    }

    private record Event(ProbeEvent event) implements Item {
    }

    private record Finished(TaskTotals totals) implements Item {
    }

    /** Runs the task to its end and returns how it ended. */
    public TaskResult run(String taskId, TaskRequest request, EventWriter out) {
        long started = System.nanoTime();
        out.task(request);
        long hubErrors = 0;
        for (String agent : request.agents()) {
            out.agentError(agent, ProbeError.ofTarget(ErrorCode.AGENT_UNKNOWN, null,
                    "no agent named '" + agent + "' is registered: this hub runs in embedded mode"
                            + " (no broker), where only '" + TaskRequest.HUB + "' can ping"));
            hubErrors++;
        }
        List<String> unanswered = new ArrayList<>();
        TaskTotals totals = new TaskTotals(0, 0, 0, 0, Duration.ZERO);
        if (request.fromHub()) {
            totals = runOnHub(taskId, request, out, unanswered);
        } else {
            request.targets().forEach(target -> request.agents().forEach(agent -> unanswered.add(agent + "/" + target)));
        }
        TaskTotals all = new TaskTotals(totals.sent(), totals.received(), totals.timeouts(),
                totals.errors() + hubErrors, Duration.ofNanos(System.nanoTime() - started));
        out.end(all);
        return new TaskResult(all, unanswered);
    }

    private TaskTotals runOnHub(String taskId, TaskRequest request, EventWriter out, List<String> unanswered) {
        BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
        RunningTask running = engine.start(request.toPingTask(taskId), new ProbeListener() {
            @Override
            public void onEvent(ProbeEvent event) {
                queue.add(new Event(event));
            }

            @Override
            public void onFinished(TaskTotals totals) {
                queue.add(new Finished(totals));
            }
        });
        Set<String> answered = new HashSet<>();
        try {
            while (true) {
                Item item = next(queue, out);
                switch (item) {
                    case Event(ProbeEvent event) -> {
                        if (event instanceof TargetStats stats && stats.received() > 0) {
                            answered.add(stats.target());
                        }
                        out.probe(TaskRequest.HUB, event);
                    }
                    case Finished(TaskTotals totals) -> {
                        request.targets().stream().filter(t -> !answered.contains(t)).forEach(unanswered::add);
                        return totals;
                    }
                }
            }
        } catch (RuntimeException e) {
            running.cancel();
            throw e;
        } catch (InterruptedException e) {
            running.cancel();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while streaming task " + taskId, e);
        }
    }

    private Item next(BlockingQueue<Item> queue, EventWriter out) throws InterruptedException {
        if (keepAlive == null) {
            return queue.take();
        }
        Item item;
        while ((item = queue.poll(keepAlive.toMillis(), TimeUnit.MILLISECONDS)) == null) {
            out.keepAlive();
        }
        return item;
    }
}
