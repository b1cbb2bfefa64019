package io.mimoping.hub.stream;

import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.event.EventWriter;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskResult;
import io.mimoping.hub.task.TaskRunner;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The tasks started with {@code POST /tasks}: each runs on its own virtual thread through the same
 * {@link TaskRunner} and {@link EventWriter} as {@code POST /ping-task}, writing into its {@link EventLog}
 * instead of a connection. At most {@link StreamLimits#maxTasks()} run at once. Finished tasks stay readable
 * for {@link StreamLimits#keepFinished()}, within {@link StreamLimits#keepTasks()} and
 * {@link StreamLimits#retainTotalBytes()}.
 * Owns a timer thread (expiry, and the stream transports' client watchdogs): close it to stop.
 */
public final class TaskStore implements AutoCloseable {

    /** The reason in the {@code cancelled} error of each task a stopping hub ends. */
    public static final String STOPPING = "the hub is stopping";
    private static final Logger LOG = Logger.getLogger(TaskStore.class.getName());
    private volatile boolean closed;

    private final TaskRunner runner;
    private final StreamLimits limits;
    private final Clock clock;
    private final Map<String, StreamedTask> tasks = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger running = new AtomicInteger();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("mimoping-streams").factory());

    public TaskStore(TaskRunner runner, StreamLimits limits, Clock clock) {
        this.runner = runner;
        this.limits = limits;
        this.clock = clock;
        // a second at least: keep-finished 0 must not spin the timer
        long every = Math.clamp(limits.keepFinished().toMillis(), 1_000, 10_000);
        timer.scheduleWithFixedDelay(this::expire, every, every, TimeUnit.MILLISECONDS);
    }

    public StreamLimits limits() {
        return limits;
    }

    /** {@link StreamLimits#maxTasks()} tasks run already. */
    public static final class TooManyTasksException extends RuntimeException {

        TooManyTasksException(int running) {
            super(running + " tasks are running, as many as this hub runs at once (max-tasks): "
                    + "wait for one to end, or cancel one (DELETE /tasks/{id})");
        }
    }

    /** The hub is stopping: it starts no more tasks. */
    public static final class StoppingException extends RuntimeException {

        StoppingException() {
            super(STOPPING + ": it starts no more tasks");
        }
    }

    /**
     * Starts a task in the background.
     *
     * @throws io.mimoping.hub.task.InvalidRequestException if it names an agent that can send no ICMP at all
     * @throws TooManyTasksException                        if {@link StreamLimits#maxTasks()} run already
     */
    public StreamedTask start(TaskRequest request) {
        if (closed) {
            throw new StoppingException();
        }
        runner.check(request);
        if (running.incrementAndGet() > limits.maxTasks()) {
            running.decrementAndGet();
            throw new TooManyTasksException(limits.maxTasks());
        }
        String id = HexFormat.of().toHexDigits(random.nextLong());
        EventLog log = new EventLog(limits.retainEvents(), limits.retainBytes());
        StreamedTask task = new StreamedTask(id, request, now(), log);
        tasks.put(id, task);
        EventWriter writer = new EventWriter(new LogSink(log), id);
        Thread.ofVirtual().name("task-" + id).start(() -> run(task, writer));
        expire();
        return task;
    }

    private void run(StreamedTask task, EventWriter writer) {
        TaskTotals totals;
        try {
            TaskResult result = runner.run(task.id(), task.request(), writer, task.cancellation());
            totals = result.totals();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, e, () -> "task " + task.id() + " failed");
            writer.probe(TaskRequest.HUB, ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null,
                    "the task failed in the hub: " + e));
            totals = new TaskTotals(0, 0, 0, 1, Duration.between(task.createdAt(), now()));
            writer.end(totals);
        }
        // its place in max-tasks frees first: a client whose DELETE returned (at the end) may start the next task
        running.decrementAndGet();
        task.finished(totals, now());
        expire();
    }

    public Optional<StreamedTask> find(String id) {
        return Optional.ofNullable(tasks.get(id));
    }

    /** Running tasks first, then finished ones; newest first within each. */
    public List<StreamedTask> list() {
        return tasks.values().stream()
                .sorted(Comparator.comparing((StreamedTask t) -> t.state() != StreamedTask.State.RUNNING)
                        .thenComparing(StreamedTask::createdAt, Comparator.reverseOrder()))
                .toList();
    }

    /** Runs {@code check} every {@code period} until it returns false or the store closes. */
    public void every(Duration period, BooleanSupplier check) {
        AtomicReference<ScheduledFuture<?>> handle = new AtomicReference<>();
        try {
            handle.set(timer.scheduleWithFixedDelay(() -> {
                if (!check.getAsBoolean()) {
                    handle.get().cancel(false);
                }
            }, period.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS));
        } catch (RejectedExecutionException e) {
            // closed: the hub is stopping, and the streams such a check watches end with it
        }
    }

    /** Forgets finished tasks beyond the limits: too old, too many, or too many bytes (the oldest go first). */
    private void expire() {
        Instant cutoff = now().minus(limits.keepFinished());
        List<StreamedTask> finished = tasks.values().stream()
                .filter(t -> t.finishedAt().isPresent())
                .sorted(Comparator.comparing((StreamedTask t) -> t.finishedAt().orElseThrow()).reversed())
                .toList();
        long bytes = 0;
        for (int i = 0; i < finished.size(); i++) {
            StreamedTask task = finished.get(i);
            bytes += task.events().bytes();
            if (i >= limits.keepTasks() || bytes > limits.retainTotalBytes()
                    || task.finishedAt().orElseThrow().isBefore(cutoff)) {
                tasks.remove(task.id(), task);
            }
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** Cancels every running task, waits up to 2 s for their {@code end} (their stream clients read it), stops the timer. */
    @Override
    public void close() {
        closed = true;
        tasks.values().forEach(t -> t.cancel(STOPPING));
        runner.cancelAll(STOPPING); // and any that a start racing with this close began
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        try {
            for (StreamedTask task : tasks.values()) {
                task.awaitEnd(Duration.ofNanos(deadline - System.nanoTime()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
    }
}
