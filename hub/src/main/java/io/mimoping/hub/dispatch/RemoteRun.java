package io.mimoping.hub.dispatch;

import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.bridge.wire.Report;

import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One agent's part of one task, seen from the hub: puts the agent's numbered batches back in order,
 * drops copies published again after a broker failover, closes on the agent's end message once every
 * batch is in, and ends with {@code agent_lost} naming the unanswered probes if the agent falls silent.
 * Cancelled, it follows the agent's last reports (what each target measured, then the end) for up to
 * {@link Dispatcher#CANCEL_GRACE}. Thread-safe: the broker's consumer, the watchdog and the client's thread
 * all call it.
 */
final class RemoteRun implements RunningTask {

    private final String agent;
    private final PingTask task;
    private final ProbeListener listener;
    private final Consumer<RemoteRun> onCancel;
    private final long startNanos = System.nanoTime();
    private final TreeMap<Long, Report.Batch> early = new TreeMap<>();
    /** Seqs with an outcome, per target still running. */
    private final Map<String, BitSet> resolved = new HashMap<>();
    private final Set<String> finishedTargets = new HashSet<>();
    private long nextBatch;
    /** What the agent was last told this hub has ({@link #ackDue()}). */
    private long acked;
    private Report.End end;
    private long lastHeardNanos = System.nanoTime();
    private long sent;
    private long received;
    private long timeouts;
    private long errors;
    /** The task was (or is being) published to the agent's queue. */
    private boolean dispatched;
    /** Cancelled: the agent was asked to stop and report what it measured. */
    private boolean cancelled;
    private boolean finished;

    RemoteRun(String agent, PingTask task, ProbeListener listener, Consumer<RemoteRun> onCancel) {
        this.agent = agent;
        this.task = task;
        this.listener = listener;
        this.onCancel = onCancel;
    }

    String agent() {
        return agent;
    }

    String taskId() {
        return task.id();
    }

    PingTask task() {
        return task;
    }

    /** A report from the agent about this task. */
    synchronized void accept(Report report) {
        if (finished) {
            return;
        }
        lastHeardNanos = System.nanoTime();
        switch (report) {
            case Report.Batch batch -> {
                if (batch.seq() >= nextBatch) {
                    early.put(batch.seq(), batch);
                } else {
                    // a copy: the agent has not heard our acknowledgement (lost in a broker restart), say it again
                    acked = Math.min(acked, batch.seq());
                }
                while (!early.isEmpty() && early.firstKey() == nextBatch) {
                    early.pollFirstEntry().getValue().events().forEach(this::deliver);
                    nextBatch++;
                }
            }
            case Report.End e -> end = e;
        }
        if (end != null && nextBatch >= end.batches()) {
            finish(end.totals());
        }
    }

    /**
     * How many of the agent's messages this hub has in order (the end message counts as number
     * {@link Report.End#batches()}), if more than the agent was last told; the agent may forget those.
     */
    synchronized OptionalLong ackDue() {
        long received = nextBatch + (end != null && nextBatch >= end.batches() ? 1 : 0);
        if (received <= acked) {
            return OptionalLong.empty();
        }
        acked = received;
        return OptionalLong.of(received);
    }

    /** The agent could not be given the task at all. */
    synchronized void refused(ErrorCode code, String message) {
        if (!finished) {
            errors++;
            listener.onEvent(ProbeError.ofTarget(code, null, message));
            finish(totals());
        }
    }

    /** Ends the run with {@code agent_lost} if nothing came from the agent for {@code silence}. */
    synchronized void checkSilence(Duration silence) {
        if (!finished && System.nanoTime() - lastHeardNanos >= silence.toNanos()) {
            lost("no message from agent '" + agent + "' for " + silence.toMillis() + " ms");
        }
    }

    /** Ends the run with {@code agent_lost}, saying {@code why} and naming each running target's unanswered probes. */
    synchronized void lost(String why) {
        if (finished) {
            return;
        }
        boolean named = false;
        for (String target : task.targets()) {
            if (finishedTargets.contains(target)) {
                continue;
            }
            BitSet done = resolved.getOrDefault(target, new BitSet());
            errors++;
            named = true;
            listener.onEvent(ProbeError.ofTarget(ErrorCode.AGENT_LOST, target, "agent '" + agent + "' lost (" + why
                    + "); unanswered seqs: " + ranges(done, task.count()) + " (in flight, or not yet sent)"));
        }
        if (!named) {
            errors++;
            listener.onEvent(ProbeError.ofTarget(ErrorCode.AGENT_LOST, null, "agent '" + agent + "' lost (" + why
                    + ") before it ended the task"));
        }
        finish(totals());
    }

    /**
     * Gives the task to the agent with {@code send}, unless the run was cancelled or refused already. Under the
     * run's lock, so that the agent's cancel can only follow its task (the publisher never calls back into a run).
     */
    synchronized void dispatch(Runnable send) {
        if (!finished && !cancelled) {
            dispatched = true;
            send.run();
        }
    }

    /**
     * Stops the run. A task not given to the agent yet finishes at once; otherwise the agent is asked to stop
     * ({@code onCancel}) and the run finishes with its last reports, or when given up ({@link #giveUp}).
     */
    @Override
    public void cancel() {
        synchronized (this) {
            if (finished || cancelled) {
                return;
            }
            if (!dispatched) {
                finish(totals());
                return;
            }
            cancelled = true;
        }
        onCancel.accept(this);
    }

    /**
     * The cancelled run's agent did not end it within {@code grace}: it ends with an {@code agent_lost} error
     * saying so, since what its targets measured is missing.
     *
     * @return whether the agent may still be running it (and should be told to stop and forget it)
     */
    synchronized boolean giveUp(Duration grace) {
        if (finished) {
            return false;
        }
        errors++;
        listener.onEvent(ProbeError.ofTarget(ErrorCode.AGENT_LOST, null, "agent '" + agent
                + "' did not end the cancelled task within " + grace.toMillis() + " ms: what its targets measured is missing"));
        return abandon();
    }

    /**
     * Finishes the run at once with what came, whatever the agent still sends: the hub stops following it.
     *
     * @return whether the agent may still be running it (and should be told to stop and forget it)
     */
    synchronized boolean abandon() {
        boolean wasRunning = dispatched && !finished;
        if (!finished) {
            finish(totals());
        }
        return wasRunning;
    }

    synchronized boolean finished() {
        return finished;
    }

    private void deliver(ProbeEvent event) {
        switch (event) {
            case Reply reply when reply.kind() == Reply.Kind.FIRST -> {
                sent++;
                received++;
                resolve(reply.target(), reply.seq());
            }
            case Reply reply -> { }
            case Timeout timeout -> {
                sent++;
                timeouts++;
                resolve(timeout.target(), timeout.seq());
            }
            case ProbeError error -> {
                errors++;
                if (error.target() != null) {
                    if (error.seq().isPresent()) {
                        resolve(error.target(), error.seq().getAsLong());
                    } else {
                        finishedTargets.add(error.target());
                    }
                }
            }
            case TargetStats stats -> {
                finishedTargets.add(stats.target());
                resolved.remove(stats.target());
            }
        }
        listener.onEvent(event);
    }

    private void resolve(String target, long seq) {
        if (seq < Integer.MAX_VALUE) {
            resolved.computeIfAbsent(target, t -> new BitSet()).set((int) seq);
        }
    }

    private TaskTotals totals() {
        return new TaskTotals(sent, received, timeouts, errors, Duration.ofNanos(System.nanoTime() - startNanos));
    }

    private void finish(TaskTotals totals) {
        finished = true;
        listener.onFinished(totals);
    }

    /** Seqs in [0, count) not set, as "3-7, 9" (or "none"). */
    static String ranges(BitSet done, int count) {
        StringBuilder text = new StringBuilder();
        int from = done.nextClearBit(0);
        while (from < count) {
            int to = Math.min(done.nextSetBit(from) < 0 ? count : done.nextSetBit(from), count) - 1;
            if (!text.isEmpty()) {
                text.append(", ");
            }
            text.append(from == to ? String.valueOf(from) : from + "-" + to);
            from = done.nextClearBit(to + 1);
        }
        return text.isEmpty() ? "none" : text.toString();
    }
}
