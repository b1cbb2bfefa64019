package io.mimoping.agent.bench;

import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Counts a benchmark task's outcomes and keeps its RTTs in a flat array: cheap enough not to be the bottleneck. */
final class Recorder implements ProbeListener {

    private final CompletableFuture<TaskTotals> done = new CompletableFuture<>();
    private long[] rtts;
    private volatile int received;
    private volatile long timeouts;
    private volatile long errors;
    private volatile long late;
    private volatile long duplicates;
    private volatile String firstError;

    Recorder(int expected) {
        rtts = new long[Math.max(16, expected)];
    }

    @Override
    public void onEvent(ProbeEvent event) {
        switch (event) {
            case Reply reply -> {
                switch (reply.kind()) {
                    case FIRST -> {
                        int n = received;
                        if (n == rtts.length) {
                            rtts = Arrays.copyOf(rtts, n * 2);
                        }
                        rtts[n] = reply.rttNanos();
                        received = n + 1;
                    }
                    case DUPLICATE -> duplicates++;
                    case LATE -> late++;
                }
            }
            case Timeout timeout -> timeouts++;
            case ProbeError error -> {
                if (firstError == null) {
                    firstError = error.code() + ": " + error.message();
                }
                errors++;
            }
            default -> { }
        }
    }

    @Override
    public void onFinished(TaskTotals totals) {
        done.complete(totals);
    }

    TaskTotals await(long millis) throws InterruptedException, ExecutionException, TimeoutException {
        return done.get(millis, TimeUnit.MILLISECONDS);
    }

    boolean finished() {
        return done.isDone();
    }

    int received() {
        return received;
    }

    long timeouts() {
        return timeouts;
    }

    long errors() {
        return errors;
    }

    String firstError() {
        return firstError;
    }

    /** RTTs of the replies that came in time, sorted, in nanoseconds (call after the task finished). */
    long[] sortedRtts() {
        long[] sorted = Arrays.copyOf(rtts, received);
        Arrays.sort(sorted);
        return sorted;
    }
}
