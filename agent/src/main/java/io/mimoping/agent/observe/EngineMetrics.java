package io.mimoping.agent.observe;

import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The probe engine's metrics: outcomes of the probes and RTTs, counted as the engine hands its events
 * to listeners, and the engine's own counters ({@link IcmpEngine#stats()}) read at each scrape.
 * {@link #counting()} is the engine to give the rest of the process: the same engine, counted.
 */
public final class EngineMetrics {

    /** RTT bucket bounds in seconds: 100 µs to 10 s. */
    private static final double[] RTT_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final IcmpEngine engine;
    private final Metrics.Counter replies;
    private final Metrics.Counter duplicates;
    private final Metrics.Counter late;
    private final Metrics.Counter timeouts;
    private final Metrics.Counter errors;
    private final Metrics.Counter tasks;
    private final Metrics.Histogram rtt;
    private final AtomicInteger running = new AtomicInteger();

    public EngineMetrics(IcmpEngine engine, Metrics metrics) {
        this.engine = engine;
        metrics.counter("mimoping_probes_sent_total", "Echo requests the kernel accepted",
                () -> engine.stats().sent());
        replies = metrics.counter("mimoping_replies_total", "Echo replies that answered their probe in time");
        timeouts = metrics.counter("mimoping_timeouts_total", "Probes with no reply within their timeout");
        duplicates = metrics.counter("mimoping_duplicate_replies_total", "Further replies to a probe already answered");
        late = metrics.counter("mimoping_late_replies_total", "First replies to probes that had already timed out");
        errors = metrics.counter("mimoping_probe_errors_total",
                "Error events: unresolved targets, refused sends, missing permission, engine stopped");
        rtt = metrics.histogram("mimoping_rtt_seconds", "Round-trip times of the replies that answered in time",
                RTT_BUCKETS);
        tasks = metrics.counter("mimoping_engine_tasks_total", "Tasks started on this process's probe engine");
        metrics.gauge("mimoping_engine_tasks_running", "Tasks running on this process's probe engine now", running::get);
        metrics.gauge("mimoping_engine_probes_in_flight", "Probes waiting for their reply, or remembered for a late one",
                () -> engine.stats().slotsInUse());
        metrics.counter("mimoping_engine_kernel_drops_total",
                "Replies the kernel dropped because the engine's receive buffer was full", () -> engine.stats().kernelDrops());
        metrics.counter("mimoping_engine_ignored_packets_total", "ICMP messages read that answered none of our probes",
                () -> engine.stats().ignored());
        metrics.counter("mimoping_engine_event_waits_total",
                "Times an engine loop waited because listeners had not taken its events yet", () -> engine.stats().eventWaits());
        metrics.gauge("mimoping_engine_up", "1 while every engine thread runs", () -> engine.alive() ? 1 : 0);
    }

    /** The engine, with every task's events counted on the way to its listener. */
    public ProbeEngine counting() {
        return new ProbeEngine() {
            @Override
            public RunningTask start(PingTask task, ProbeListener listener) {
                tasks.increment();
                running.incrementAndGet();
                return engine.start(task, new Counted(listener));
            }

            @Override
            public void close() {
                engine.close();
            }
        };
    }

    private final class Counted implements ProbeListener {

        private final ProbeListener listener;

        private Counted(ProbeListener listener) {
            this.listener = listener;
        }

        @Override
        public void onEvent(ProbeEvent event) {
            switch (event) {
                case Reply reply -> {
                    switch (reply.kind()) {
                        case FIRST -> {
                            replies.increment();
                            rtt.observe(reply.rttNanos() / 1e9);
                        }
                        case DUPLICATE -> duplicates.increment();
                        case LATE -> late.increment();
                    }
                }
                case Timeout timeout -> timeouts.increment();
                case ProbeError error -> errors.increment();
                case TargetStats stats -> {
                    // a summary of outcomes already counted
                }
            }
            listener.onEvent(event);
        }

        @Override
        public void onFinished(TaskTotals totals) {
            running.decrementAndGet();
            listener.onFinished(totals);
        }
    }
}
