package io.mimoping.hub.cli;

import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.hub.event.EventSink;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRunner;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Events as people read them, in fping's {@code -c} format, so that scripts written for fping read it: on
 * standard output a line per reply or timeout as it happens, with the target's running average and loss; at the
 * end, on standard error as fping prints them, a summary line per target in the order they were given:
 * <pre>
 * 127.0.0.1 : [0], 64 bytes, 0.042 ms (0.042 avg, 0% loss)
 * 127.0.0.1 : [1], timed out (0.042 avg, 50% loss)
 *
 * 127.0.0.1 : xmt/rcv/%loss = 2/1/50%, min/avg/max = 0.042/0.042/0.042
 * </pre>
 * Duplicate and late replies get a line of their own ({@code duplicate for [1]}, {@code late reply for [1]}),
 * and errors an {@code error} line naming their code. Each line is flushed as it is written.
 */
final class TextSink implements EventSink {

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, Running> running = new HashMap<>();
    /** Each (pinging side, target) pair's summary line, once it finished; printed in the request's order. */
    private final Map<String, String> summaries = new HashMap<>();
    private final List<String> order = new ArrayList<>();

    TextSink(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** One target's outcomes so far. */
    private static final class Running {
        long answered;
        long timedOut;
        long rttSum;

        void answered(long rttNanos) {
            answered++;
            rttSum += rttNanos;
        }

        String soFar() {
            long outcomes = answered + timedOut;
            return "(" + (answered == 0 ? "NaN" : millis((double) rttSum / answered)) + " avg, "
                    + Math.round(100.0 * timedOut / outcomes) + "% loss)";
        }
    }

    @Override
    public void task(TaskRequest request) {
        // no header, as fping prints none
        for (String from : request.from()) {
            for (String target : request.targets()) {
                order.add(TaskRunner.name(from, target));
            }
        }
    }

    @Override
    public void probe(String from, ProbeEvent event) {
        String name = name(from, event.target());
        switch (event) {
            case Reply reply when reply.kind() == Reply.Kind.FIRST -> {
                Running target = running.computeIfAbsent(name, n -> new Running());
                target.answered(reply.rttNanos());
                line(name + " : [" + reply.seq() + "], " + reply.nbytes() + " bytes, " + millis(reply.rttNanos())
                        + " ms " + target.soFar());
            }
            case Reply reply -> line(name + " : " + (reply.kind() == Reply.Kind.DUPLICATE ? "duplicate" : "late reply")
                    + " for [" + reply.seq() + "], " + reply.nbytes() + " bytes, " + millis(reply.rttNanos()) + " ms");
            case Timeout timeout -> {
                Running target = running.computeIfAbsent(name, n -> new Running());
                target.timedOut++;
                line(name + " : [" + timeout.seq() + "], timed out " + target.soFar());
            }
            case ProbeError error -> error(name, error);
            case TargetStats stats -> summaries.put(name, summary(name, stats));
        }
    }

    @Override
    public void agentError(String agent, ProbeError error) {
        error(agent, error);
    }

    private void error(String name, ProbeError error) {
        line((name == null ? "" : name + " : ") + "error " + error.code().wireName()
                + (error.seq().isPresent() ? " for [" + error.seq().getAsLong() + "]" : "") + ": " + error.message());
    }

    /** The summaries, in the request's order (a cancelled task's engine sums up what each target measured). */
    @Override
    public void end(TaskTotals totals) {
        out.flush();
        if (!summaries.isEmpty()) {
            err.println();
            order.stream().filter(summaries::containsKey).map(summaries::get).forEach(err::println);
        }
        err.flush();
    }

    private static String summary(String name, TargetStats stats) {
        return name + " : xmt/rcv/%loss = " + stats.sent() + "/" + stats.received() + "/"
                + Math.round(stats.lossPercent()) + "%" + (stats.received() == 0 ? "" : ", min/avg/max = "
                + millis(stats.minNanos()) + "/" + millis(stats.meanNanos()) + "/" + millis(stats.maxNanos()));
    }

    @Override
    public void keepAlive() {
        // a terminal needs none
    }

    /** Writes a line and flushes it; throws if the output was closed, which stops the task. */
    private void line(String text) {
        out.println(text);
        if (out.checkError()) {
            throw new UncheckedIOException(new IOException("standard output closed"));
        }
    }

    /** What a line is about: the (pinging side, target) pair; the side alone, or null, for an error about no target. */
    private static String name(String from, String target) {
        if (target == null) {
            return from.equals(TaskRequest.HUB) ? null : from;
        }
        return TaskRunner.name(from, target);
    }

    /** Milliseconds with microsecond precision, as fping prints them with three decimals. */
    private static String millis(double nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }
}
