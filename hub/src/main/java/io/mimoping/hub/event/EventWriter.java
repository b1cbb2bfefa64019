package io.mimoping.hub.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.JsonGenerator;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.hub.task.TaskRequest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Writes one task's events as NDJSON, the format of DESIGN.md: one
 * {@code {"type":…,"data":{…},"metadata":{"from":…,"task":…,"cursor":n}}} object a line. Every line is
 * flushed at once except probe events, which go out with the next {@link #flush()}: the caller writes the
 * events at hand and then flushes, so no event waits for a later one and a burst costs one write.
 * Not thread-safe: one writer per stream, used by one thread.
 */
public final class EventWriter implements EventSink {

    /**
     * Its buffers are shared by all streams: Jackson keeps them per thread by default, and each stream runs on a
     * virtual thread of its own, so every line made 12 KB of new buffers (2,000 streams starting at once: young
     * collections of 0.1-0.7 s that stalled every stream).
     */
    private static final JsonFactory JSON = JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
            .build();
    private static final DateTimeFormatter RFC_3339_MICROS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(ZoneOffset.UTC);
    private static final byte[] KEEP_ALIVE = {' '};

    private final OutputStream out;
    private final String taskId;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(512);
    private long cursor;

    /** A writer of task {@code taskId}'s events to {@code out}. */
    public EventWriter(OutputStream out, String taskId) {
        this.out = out;
        this.taskId = taskId;
    }

    /** The first line: the task id and the request as it runs, defaults filled in. */
    @Override
    public void task(TaskRequest request) {
        write("task", TaskRequest.HUB, g -> {
            g.writeStringField("id", taskId);
            writeStrings(g, "from", request.from());
            writeStrings(g, "targets", request.targets());
            g.writeNumberField("interval", request.interval().toMillis());
            g.writeNumberField("count", request.count());
            g.writeNumberField("timeout", request.timeout().toMillis());
            g.writeNumberField("size", request.size());
        });
        flush();
    }

    /** A probe event of pinging side {@code from}, sent with the next {@link #flush()}. */
    @Override
    public void probe(String from, ProbeEvent event) {
        switch (event) {
            case Reply reply -> write(switch (reply.kind()) {
                case FIRST -> "pkt_recv";
                case DUPLICATE -> "pkt_dup_recv";
                case LATE -> "pkt_late_recv";
            }, from, g -> {
                writeAddress(g, reply.address());
                g.writeNumberField("seq", reply.seq());
                g.writeNumberField("ttl", reply.ttl());
                g.writeNumberField("nbytes", reply.nbytes());
                g.writeNumberField("id", reply.id());
                g.writeBooleanField("dup", reply.kind() == Reply.Kind.DUPLICATE);
                writeMillisField(g, "rtt", reply.rttNanos());
                g.writeStringField("target", reply.target());
                g.writeStringField("sent_at", RFC_3339_MICROS.format(reply.sentAt()));
            });
            case Timeout timeout -> write("pkt_timeout", from, g -> {
                g.writeStringField("target", timeout.target());
                writeAddress(g, timeout.address());
                g.writeNumberField("seq", timeout.seq());
                g.writeStringField("sent_at", RFC_3339_MICROS.format(timeout.sentAt()));
            });
            case ProbeError error -> error(from, error, null);
            case TargetStats stats -> write("ping_stats", from, g -> writeStats(g, stats));
        }
    }

    /** An error about pinging side {@code agent} itself, such as an unknown agent in {@code from}. */
    @Override
    public void agentError(String agent, ProbeError error) {
        error(TaskRequest.HUB, error, agent);
        flush();
    }

    /** The last line: the task's totals. */
    @Override
    public void end(TaskTotals totals) {
        write("end", TaskRequest.HUB, g -> {
            g.writeNumberField("sent", totals.sent());
            g.writeNumberField("received", totals.received());
            g.writeNumberField("timeouts", totals.timeouts());
            g.writeNumberField("errors", totals.errors());
            g.writeNumberField("duration_ms", totals.duration().toMillis());
        });
        flush();
    }

    /** Sends what was written. */
    @Override
    public void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The {@code gap} event a stream client gets instead of events no longer retained: cursors
     * {@code from} to {@code to} (both included) are gone. It carries cursor {@code to}, so a client
     * resuming after it asks for {@code to + 1}. One line, {@code '\n'} included.
     */
    public static byte[] gap(String taskId, long from, long to) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        EventWriter writer = new EventWriter(out, taskId);
        writer.cursor = to;
        writer.write("gap", TaskRequest.HUB, g -> {
            g.writeNumberField("from", from);
            g.writeNumberField("to", to);
            g.writeStringField("message", "events " + from + " to " + to
                    + " are no longer retained (the client fell behind, or came back too late)");
        });
        return out.toByteArray();
    }

    /**
     * Sends one space: JSON parsers skip it before the next line's object, and a client that went away
     * is noticed by the failed write instead of when the next event comes.
     */
    @Override
    public void keepAlive() {
        try {
            out.write(KEEP_ALIVE);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void error(String from, ProbeError error, String agent) {
        write("error", from, g -> {
            g.writeStringField("code", error.code().wireName());
            g.writeStringField("message", error.message());
            if (agent != null) {
                g.writeStringField("agent", agent);
            }
            if (error.target() != null) {
                g.writeStringField("target", error.target());
            }
            if (error.seq().isPresent()) {
                g.writeNumberField("seq", error.seq().getAsLong());
            }
        });
    }

    private static void writeStats(JsonGenerator g, TargetStats stats) throws IOException {
        writeAddress(g, stats.address());
        g.writeNumberField("packets_sent", stats.sent());
        g.writeNumberField("packets_recv", stats.received());
        g.writeNumberField("packets_recv_duplicates", stats.duplicates());
        g.writeNumberField("packet_loss", Math.round(stats.lossPercent() * 1000) / 1000.0);
        g.writeArrayFieldStart("rtts");
        for (long rtt : stats.rttNanos()) {
            writeMillis(g, rtt);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("ttls");
        for (int ttl : stats.ttls()) {
            g.writeNumber(ttl);
        }
        g.writeEndArray();
        writeMillisField(g, "min_rtt", stats.minNanos());
        g.writeNumberField("avg_rtt", millis(stats.meanNanos()));
        writeMillisField(g, "max_rtt", stats.maxNanos());
        g.writeNumberField("std_dev_rtt", millis(stats.stdDevNanos()));
        g.writeStringField("target", stats.target());
        g.writeNumberField("jitter", millis(stats.jitterNanos()));
        long[] percentiles = stats.percentilesNanos(50, 90, 99);
        writeMillisField(g, "p50", percentiles[0]);
        writeMillisField(g, "p90", percentiles[1]);
        writeMillisField(g, "p99", percentiles[2]);
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private void write(String type, String from, Fields data) {
        line.reset();
        try (JsonGenerator g = JSON.createGenerator(line)) {
            g.writeStartObject();
            g.writeStringField("type", type);
            g.writeObjectFieldStart("data");
            data.write(g);
            g.writeEndObject();
            g.writeObjectFieldStart("metadata");
            g.writeStringField("from", from);
            g.writeStringField("task", taskId);
            g.writeNumberField("cursor", cursor++);
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        line.write('\n');
        try {
            line.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeStrings(JsonGenerator g, String field, List<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String value : values) {
            g.writeString(value);
        }
        g.writeEndArray();
    }

    private static void writeAddress(JsonGenerator g, InetAddress address) throws IOException {
        if (address == null) {
            g.writeNullField("ip_addr");
        } else {
            g.writeStringField("ip_addr", AddressText.of(address));
        }
    }

    private static void writeMillisField(JsonGenerator g, String name, long nanos) throws IOException {
        g.writeFieldName(name);
        writeMillis(g, nanos);
    }

    /**
     * Whole nanoseconds as milliseconds with microsecond precision, the same text as {@link #millis} gives
     * ({@code 0.003}, {@code 0.05}, {@code 20.0}) without going through a double: a {@code ping_stats} line
     * carries every RTT of its target, and this writes them ~4x faster.
     */
    static void writeMillis(JsonGenerator g, long nanos) throws IOException {
        long micros = Math.round(nanos / 1000.0);
        if (micros < 0 || micros >= 10_000_000_000L) { // as a double would print them (10^7 ms: in E notation)
            g.writeNumber(millis(nanos));
            return;
        }
        char[] text = new char[16];
        String whole = Long.toString(micros / 1000);
        whole.getChars(0, whole.length(), text, 0);
        int n = whole.length();
        text[n++] = '.';
        int fraction = (int) (micros % 1000);
        text[n++] = (char) ('0' + fraction / 100);
        if (fraction % 100 != 0) {
            text[n++] = (char) ('0' + fraction / 10 % 10);
            if (fraction % 10 != 0) {
                text[n++] = (char) ('0' + fraction % 10);
            }
        }
        g.writeNumber(text, 0, n);
    }

    /** Nanoseconds as milliseconds with microsecond precision. */
    private static double millis(double nanos) {
        return Math.round(nanos / 1000.0) / 1000.0;
    }
}
