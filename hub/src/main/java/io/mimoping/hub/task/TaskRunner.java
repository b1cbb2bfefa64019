package io.mimoping.hub.task;

import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.event.EventSink;

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
 * line, every pinging side's events merged in arrival order, then {@code end} once every side finished.
 * Pinging sides are the hub's own engine ({@value TaskRequest#HUB}) and agents found in the directory.
 *
 * <p>Pinging sides hand events over through a queue and never wait for the client. The runner writes the
 * events at hand and flushes before it waits for more, so a line goes out as soon as it is written, and a
 * burst of events leaves in one write instead of one per line. When the client
 * goes away (a write fails), the task is cancelled at every side at once and the failure propagates.
 */
public final class TaskRunner {

    private final ProbeEngine engine;
    private final AgentDirectory agents;
    private final Duration keepAlive;
    /** The cancellations of the tasks running now; its monitor guards it and {@link #stopping}, and hears each end. */
    private final Set<Cancellation> live = new HashSet<>();
    /** Why every task is stopped, once {@link #cancelAll} was called: tasks that start later stop at once. */
    private String stopping;

    /**
     * @param engine    the hub's own probe engine
     * @param agents    where agents named in {@code from} are found
     * @param keepAlive how long the stream may stay silent before a keep-alive byte checks the client is
     *                  still there; {@code null} for outputs that need none (a terminal)
     */
    public TaskRunner(ProbeEngine engine, AgentDirectory agents, Duration keepAlive) {
        this.engine = engine;
        this.agents = agents;
        this.keepAlive = keepAlive;
    }

    private sealed interface Item {
    }

    private record Event(String from, ProbeEvent event) implements Item {
    }

    private record Finished(TaskTotals totals) implements Item {
    }

    /**
     * Refuses, before any event, a task naming an agent that can send no ICMP at all.
     *
     * @throws InvalidRequestException {@code unsupported}, field {@code from}, naming the agent and why
     */
    public void check(TaskRequest request) {
        for (String agent : request.agents()) {
            agents.refusal(agent).ifPresent(why -> {
                throw new InvalidRequestException("unsupported", "from", why);
            });
        }
    }

    private record Cancelled(String reason) implements Item {
    }

    /**
     * Lets another thread cancel a task {@link #run} is running: every pinging side stops at once, the
     * stream gets an {@code error} event with code {@code cancelled}, then its {@code end}.
     */
    public static final class Cancellation {

        private String reason;
        private BlockingQueue<Item> queue;

        /** Cancels the task (before it starts, too); only the first call counts. */
        public synchronized void cancel(String reason) {
            if (this.reason != null) {
                return;
            }
            this.reason = reason;
            if (queue != null) {
                queue.add(new Cancelled(reason));
            }
        }

        private synchronized void attach(BlockingQueue<Item> queue) {
            this.queue = queue;
            if (reason != null) {
                queue.add(new Cancelled(reason));
            }
        }
    }

    /** Runs the task to its end and returns how it ended. */
    public TaskResult run(String taskId, TaskRequest request, EventSink out) {
        return run(taskId, request, out, new Cancellation());
    }

    /** Runs the task to its end, or until {@code cancellation} (or {@link #cancelAll}) stops it; returns how it ended. */
    public TaskResult run(String taskId, TaskRequest request, EventSink out, Cancellation cancellation) {
        synchronized (live) {
            live.add(cancellation);
            if (stopping != null) {
                cancellation.cancel(stopping);
            }
        }
        try {
            return runFollowed(taskId, request, out, cancellation);
        } finally {
            synchronized (live) {
                live.remove(cancellation);
                live.notifyAll();
            }
        }
    }

    /**
     * Cancels every task running now, as their {@link Cancellation} would: each stream gets its {@code cancelled}
     * error and {@code end}. A task started after this is cancelled at once.
     */
    public void cancelAll(String reason) {
        synchronized (live) {
            stopping = reason;
            live.forEach(c -> c.cancel(reason));
        }
    }

    /**
     * Waits up to {@code wait} until no task runs: after {@link #cancelAll}, until each stream has been written
     * to its end.
     *
     * @return whether none runs
     */
    public boolean awaitNone(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (live) {
            for (long left = wait.toNanos(); !live.isEmpty() && left > 0; left = deadline - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(live, left);
            }
            return live.isEmpty();
        }
    }

    private TaskResult runFollowed(String taskId, TaskRequest request, EventSink out, Cancellation cancellation) {
        long started = System.nanoTime();
        out.task(request);
        PingTask task = request.toPingTask(taskId);
        BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
        cancellation.attach(queue);
        List<RunningTask> running = new ArrayList<>();
        long hubErrors = 0;
        for (String from : request.from()) {
            ProbeEngine side = from.equals(TaskRequest.HUB) ? engine : agents.find(from).orElse(null);
            if (side == null) {
                out.agentError(from, ProbeError.ofTarget(ErrorCode.AGENT_UNKNOWN, null,
                        "no agent named '" + from + "': this hub runs in embedded mode (no broker), where only '"
                                + TaskRequest.HUB + "' can ping"));
                hubErrors++;
                continue;
            }
            running.add(side.start(task, new ProbeListener() {
                @Override
                public void onEvent(ProbeEvent event) {
                    queue.add(new Event(from, event));
                }

                @Override
                public void onFinished(TaskTotals totals) {
                    queue.add(new Finished(totals));
                }
            }));
        }
        List<String> unanswered = new ArrayList<>();
        List<String> unresolved = new ArrayList<>();
        TaskTotals totals = collect(taskId, request, queue, running, out, unanswered, unresolved);
        TaskTotals all = new TaskTotals(totals.sent(), totals.received(), totals.timeouts(),
                totals.errors() + hubErrors, Duration.ofNanos(System.nanoTime() - started));
        out.end(all);
        return new TaskResult(all, unanswered, unresolved);
    }

    private TaskTotals collect(String taskId, TaskRequest request, BlockingQueue<Item> queue, List<RunningTask> running,
                               EventSink out, List<String> unanswered, List<String> unresolved) {
        Set<String> answered = new HashSet<>();
        Set<String> notFound = new HashSet<>();
        long sent = 0;
        long received = 0;
        long timeouts = 0;
        long errors = 0;
        String cancelled = null;
        try {
            for (int open = running.size(); open > 0; ) {
                switch (next(queue, out)) {
                    case Event(String from, ProbeEvent event) -> {
                        // a stopped side reports what its targets measured too (RunningTask#cancel)
                        if (event instanceof TargetStats stats && stats.received() > 0) {
                            answered.add(name(from, stats.target()));
                        }
                        if (event instanceof ProbeError error && error.code() == ErrorCode.RESOLVE_FAILED
                                && error.target() != null) {
                            notFound.add(name(from, error.target()));
                        }
                        if (event instanceof ProbeError error && isAboutAgent(error.code())) {
                            out.agentError(from, error);
                        } else {
                            out.probe(from, event);
                        }
                    }
                    case Finished(TaskTotals totals) -> {
                        sent += totals.sent();
                        received += totals.received();
                        timeouts += totals.timeouts();
                        errors += totals.errors();
                        open--;
                    }
                    case Cancelled(String reason) -> {
                        if (cancelled == null) {
                            cancelled = reason;
                            // each side finishes at once: the statistics of what it measured, its counts so far
                            running.forEach(RunningTask::cancel);
                        }
                    }
                }
            }
            if (cancelled != null) { // last before the end, after what the sides measured
                out.probe(TaskRequest.HUB, ProbeError.ofTarget(ErrorCode.CANCELLED, null, cancelled));
                errors++;
            }
        } catch (RuntimeException e) {
            running.forEach(RunningTask::cancel);
            throw e;
        } catch (InterruptedException e) {
            running.forEach(RunningTask::cancel);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while streaming task " + taskId, e);
        }
        for (String from : request.from()) {
            for (String target : request.targets()) {
                String pair = name(from, target);
                if (notFound.contains(pair)) {
                    unresolved.add(pair);
                } else if (!answered.contains(pair)) {
                    unanswered.add(pair);
                }
            }
        }
        return new TaskTotals(sent, received, timeouts, errors, Duration.ZERO);
    }

    /** How a (pinging side, target) pair is named to people: the target alone for the hub itself. */
    public static String name(String from, String target) {
        return from.equals(TaskRequest.HUB) ? target : from + "/" + target;
    }

    private static boolean isAboutAgent(ErrorCode code) {
        return code == ErrorCode.AGENT_UNKNOWN || code == ErrorCode.AGENT_OFFLINE || code == ErrorCode.AGENT_LOST;
    }

    private Item next(BlockingQueue<Item> queue, EventSink out) throws InterruptedException {
        Item item = queue.poll();
        if (item != null) {
            return item;
        }
        out.flush();
        if (keepAlive == null) {
            return queue.take();
        }
        while ((item = queue.poll(keepAlive.toMillis(), TimeUnit.MILLISECONDS)) == null) {
            out.keepAlive();
        }
        return item;
    }
}
