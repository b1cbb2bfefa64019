package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.Timeout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Hands the shards' results to the tasks' listeners on a thread of its own, so a slow listener never
 * holds up probing (it only fills the bounded rings, and then the shards wait: back-pressure). Turns
 * each primitive record into its event, keeps each target's statistics, and finishes a task once all
 * its parts are done. Every task's events come from this one thread, in order per target.
 */
final class Dispatcher {

    /** What a task still running hears when the engine stops under it. */
    private static final String ENGINE_STOPPED =
            "the probe engine stopped while the task ran: its process is stopping, or the engine failed";

    private static final Logger LOG = Logger.getLogger(Dispatcher.class.getName());
    private static final Reply.Kind[] KINDS = Reply.Kind.values();
    /** Longest park; a shard that publishes records wakes the dispatcher at once. */
    private static final long PARK_NANOS = 1_000_000_000L;
    /**
     * Past this many records a second the dispatcher stops asking to be woken and looks at the rings every
     * {@link #POLL_NANOS} instead: at 150,000 probes/s a wake-up per shard batch cost the shards a system
     * call each and the busy cores a context switch each time. Below it, results leave at once.
     */
    private static final long BUSY_RECORDS_PER_SECOND = 20_000;
    private static final long POLL_NANOS = 1_000_000L;
    private static final long RATE_WINDOW_NANOS = 10_000_000L;

    private final EngineClock clock;
    private final List<EventRing> rings = new ArrayList<>();
    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean running = true;

    // Owned by the dispatcher thread.
    private final Set<TaskRun> tasks = new LinkedHashSet<>();
    private long windowStart;
    private long windowRecords;
    private boolean busy;

    Dispatcher(EngineClock clock) {
        this.clock = clock;
        this.thread = new Thread(this::run, "mimoping-events");
        this.thread.setDaemon(true);
    }

    /** Registers a shard's ring; before {@link #start()}. */
    void add(EventRing ring) {
        rings.add(ring);
    }

    void start() {
        thread.start();
    }

    long threadId() {
        return thread.threadId();
    }

    boolean alive() {
        return thread.isAlive();
    }

    /** Runs a command on the dispatcher thread, soon. */
    void submit(Runnable command) {
        commands.add(command);
        LockSupport.unpark(thread);
    }

    /**
     * A shard published records: wakes the dispatcher if it is parked waiting for records. The dispatcher
     * handles everything published before it parks again, so one that is at work costs the shards no wake-up
     * (they publish once per loop turn, and turns coalesce), and an idle one is woken once per turn that
     * produced results. Past {@link #BUSY_RECORDS_PER_SECOND} it polls instead and is not woken.
     */
    void signal() {
        if (sleeping) {
            LockSupport.unpark(thread);
        }
    }

    /** A task the engine runs from now on (on the dispatcher thread). */
    void track(TaskRun run) {
        tasks.add(run);
    }

    /** Handles what is left, ends every unfinished task with an engine_stopped error, and stops. */
    void close() {
        running = false;
        LockSupport.unpark(thread);
        Threads.joinUninterruptibly(thread);
    }

    private void run() {
        try {
            while (true) {
                boolean stopping = !running;
                boolean worked = runCommands() | consume() > 0;
                if (stopping && !worked) {
                    break;
                }
                if (!worked) {
                    // Volatile flag, then a last look: a shard publishing now either sees the flag or is seen.
                    sleeping = !busy;
                    if (running && commands.isEmpty() && !available()) {
                        LockSupport.parkNanos(busy ? POLL_NANOS : PARK_NANOS);
                    }
                    sleeping = false;
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "the probe engine's event dispatcher stopped by an unexpected failure", e);
        } finally {
            for (TaskRun run : tasks) {
                if (!run.finished) {
                    run.emit(ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null, ENGINE_STOPPED));
                    run.finish(clock.monotonicNanos());
                }
            }
            tasks.clear();
        }
    }

    private boolean runCommands() {
        boolean any = false;
        Runnable command;
        while ((command = commands.poll()) != null) {
            command.run();
            any = true;
        }
        return any;
    }

    private boolean available() {
        for (EventRing ring : rings) {
            if (ring.available() > 0) {
                return true;
            }
        }
        return false;
    }

    /** Handles every published record; returns how many there were. */
    private long consume() {
        long count = 0;
        for (int r = 0; r < rings.size(); r++) {
            EventRing ring = rings.get(r);
            long available = ring.available();
            if (available == 0) {
                continue;
            }
            count += available;
            long from = ring.consumedIndex();
            long to = from + available;
            for (long p = from; p < to; p++) {
                handle(ring, ring.index(p));
            }
            ring.consumedUpTo(to);
        }
        measureRate(count);
        return count;
    }

    /** Whether the records of the last {@link #RATE_WINDOW_NANOS} came faster than the dispatcher wants to be woken. */
    private void measureRate(long records) {
        windowRecords += records;
        long now = clock.monotonicNanos();
        long elapsed = now - windowStart;
        if (elapsed >= RATE_WINDOW_NANOS) {
            busy = windowRecords * 1_000_000_000L / elapsed > BUSY_RECORDS_PER_SECOND;
            windowStart = now;
            windowRecords = 0;
        }
    }

    private void handle(EventRing ring, int i) {
        TaskPart part = ring.part[i];
        TaskRun run = part.run;
        if (run.finished) {
            return;
        }
        int type = ring.type[i];
        switch (type) {
            case EventRing.REPLY -> {
                TargetRun target = part.targets[ring.target[i]];
                Reply.Kind kind = KINDS[ring.kind[i]];
                switch (kind) {
                    case FIRST -> {
                        target.answered(ring.rtt[i], ring.ttl[i]);
                        run.received++;
                    }
                    case DUPLICATE -> target.duplicates++;
                    case LATE -> { }
                }
                run.emit(new Reply(target.name, target.address, ring.seq[i], ring.ttl[i], ring.nbytes[i], ring.id[i],
                        ring.rtt[i], instant(ring.sentEpoch[i]), kind));
            }
            case EventRing.TIMEOUT -> {
                TargetRun target = part.targets[ring.target[i]];
                run.timeouts++;
                run.emit(new Timeout(target.name, target.address, ring.seq[i], instant(ring.sentEpoch[i])));
            }
            case EventRing.SEND_ERROR -> run.emit(ProbeError.ofProbe(ErrorCode.SEND_FAILED,
                    part.targets[ring.target[i]].name, ring.seq[i], ring.message[i]));
            case EventRing.TARGET_DONE -> {
                TargetRun target = part.targets[ring.target[i]];
                run.sent += ring.seq[i];
                run.emit(target.stats(ring.seq[i]));
                if (--part.openTargets == 0) {
                    close(part);
                }
            }
            // what a target stopped early (cancelled, or its shard failed) measured: its part counts what it sent
            case EventRing.TARGET_STOPPED -> run.emit(part.targets[ring.target[i]].stats(ring.seq[i]));
            case EventRing.PART_STOPPED, EventRing.PART_FAILED -> {
                if (part.closed) {
                    return;
                }
                run.sent += ring.seq[i];
                if (type == EventRing.PART_FAILED && !run.stopReported) {
                    run.stopReported = true;
                    run.emit(ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null, ENGINE_STOPPED));
                }
                close(part);
            }
            default -> throw new IllegalStateException("unknown event record type " + type);
        }
    }

    /** A part is done: its targets all finished, or it stopped. The task finishes with its last part. */
    private void close(TaskPart part) {
        part.closed = true;
        TaskRun run = part.run;
        if (--run.openParts == 0) {
            run.finish(clock.monotonicNanos());
            tasks.remove(run);
        }
    }

    private static Instant instant(long epochNanos) {
        return Instant.ofEpochSecond(0, epochNanos);
    }
}
