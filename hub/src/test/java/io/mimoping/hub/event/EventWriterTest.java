package io.mimoping.hub.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.hub.task.TaskRequest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventWriterTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String TASK = "5eed5eed5eed5eed";
    private static final Instant SENT = Instant.parse("2026-11-27T04:55:41.837223456Z");

    /** Counts flushes and the bytes written before each, so tests see what a client would have received. */
    private static final class Recording extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<String> flushed = new ArrayList<>();
        private int flushedUpTo;

        @Override
        public void write(int b) {
            bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
        }

        @Override
        public void flush() {
            byte[] all = bytes.toByteArray();
            flushed.add(new String(all, flushedUpTo, all.length - flushedUpTo, StandardCharsets.UTF_8));
            flushedUpTo = all.length;
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    private final Recording out = new Recording();
    private final EventWriter writer = new EventWriter(out, TASK);

    private List<JsonNode> lines() throws IOException {
        String text = out.text();
        assertTrue(text.isEmpty() || text.endsWith("\n"), "every event ends its line");
        List<JsonNode> events = new ArrayList<>();
        for (String line : text.split("\n")) {
            events.add(JSON.readTree(line));
        }
        return events;
    }

    private JsonNode only() throws IOException {
        List<JsonNode> events = lines();
        assertEquals(1, events.size(), out.text());
        return events.getFirst();
    }

    private static Set<String> names(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** A number equal to the expected decimal, whatever its scale ({@code 1.0} and {@code 1}). */
    private static void assertDecimal(String expected, JsonNode actual) {
        assertTrue(actual.isNumber(), "a JSON number: " + actual);
        assertEquals(0, new BigDecimal(expected).compareTo(actual.decimalValue()), "expected " + expected + ", got " + actual);
    }

    private static Reply reply(String target, String address, long seq, long rttNanos, Reply.Kind kind) throws IOException {
        return new Reply(target, InetAddress.getByName(address), seq, 64, 64, 0xbeef, rttNanos, SENT, kind);
    }

    /** RTTs are written without a double; the text must stay what a double of the same value prints. */
    @Test
    void millisecondsReadAsTheDoubleTheyStandFor() throws IOException {
        java.util.Random random = new java.util.Random(42);
        List<Long> nanos = new ArrayList<>(List.of(0L, 1L, 499L, 500L, 999L, 1_000L, 1_500L, 50_000L, 999_499L,
                999_500L, 1_000_000L, 20_001_000L, 123_456_789L, 9_999_999_999_499L, 9_999_999_999_500L,
                10_000_000_000_000L, 86_400_000_000_000L, -1_000L));
        for (int i = 0; i < 100_000; i++) {
            nanos.add(i % 2 == 0 ? random.nextLong(5_000_000) : random.nextLong(20_000_000_000_000L));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (com.fasterxml.jackson.core.JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartArray();
            for (long n : nanos) {
                EventWriter.writeMillis(g, n);
            }
            g.writeEndArray();
        }
        String[] written = out.toString(StandardCharsets.UTF_8).replaceAll("[\\[\\]]", "").split(",");
        for (int i = 0; i < nanos.size(); i++) {
            assertEquals(Double.toString(Math.round(nanos.get(i) / 1000.0) / 1000.0), written[i], nanos.get(i) + " ns");
        }
    }

    @Test
    void taskLineCarriesTheRequestWithDefaults() throws IOException {
        writer.task(new TaskRequest(List.of("hub"), List.of("127.0.0.1", "localhost"), Duration.ofMillis(1000), 3,
                Duration.ofMillis(10_000), 56));
        JsonNode event = only();
        assertEquals(Set.of("type", "data", "metadata"), names(event));
        assertEquals("task", event.get("type").asText());
        JsonNode data = event.get("data");
        assertEquals(TASK, data.get("id").asText());
        assertEquals(JSON.readTree("[\"hub\"]"), data.get("from"));
        assertEquals(JSON.readTree("[\"127.0.0.1\",\"localhost\"]"), data.get("targets"));
        assertEquals(1000, data.get("interval").asInt());
        assertEquals(3, data.get("count").asInt());
        assertEquals(10_000, data.get("timeout").asInt());
        assertEquals(56, data.get("size").asInt());
        assertEquals(JSON.readTree("{\"from\":\"hub\",\"task\":\"" + TASK + "\",\"cursor\":0}"), event.get("metadata"));
    }

    @Test
    void pktRecvHasSeedFieldsAndOurs() throws IOException {
        writer.probe("hub", reply("localhost", "127.0.0.1", 4, 20_012_345, Reply.Kind.FIRST));
        JsonNode event = only();
        assertEquals("pkt_recv", event.get("type").asText());
        JsonNode data = event.get("data");
        assertEquals(Set.of("ip_addr", "seq", "ttl", "nbytes", "id", "dup", "rtt", "target", "sent_at"), names(data));
        assertEquals("127.0.0.1", data.get("ip_addr").asText());
        assertEquals(4, data.get("seq").asLong());
        assertEquals(64, data.get("ttl").asInt());
        assertEquals(64, data.get("nbytes").asInt());
        assertEquals(0xbeef, data.get("id").asInt());
        assertTrue(data.get("dup").isBoolean());
        assertFalse(data.get("dup").asBoolean());
        assertTrue(data.get("rtt").isNumber(), "rtt is a number");
        assertDecimal("20.012", data.get("rtt"));
        assertEquals("localhost", data.get("target").asText(), "target as asked, beside the address");
        assertEquals("2026-11-27T04:55:41.837223Z", data.get("sent_at").asText(), "RFC 3339, µs, UTC");
    }

    @Test
    void rttIsRoundedToTheMicrosecond() throws IOException {
        long[] nanos = {20_012_345, 20_012_500, 20_012_499, 999, 400, 1_000_000, 3_600_000_000_000L};
        String[] millis = {"20.012", "20.013", "20.012", "0.001", "0.0", "1.0", "3600000.0"};
        for (int i = 0; i < nanos.length; i++) {
            writer.probe("hub", reply("::1", "::1", i, nanos[i], Reply.Kind.FIRST));
        }
        List<JsonNode> events = lines();
        for (int i = 0; i < nanos.length; i++) {
            assertDecimal(millis[i], events.get(i).get("data").get("rtt"));
        }
    }

    @Test
    void sentAtAlwaysHasSixFractionDigitsAndZ() throws IOException {
        Instant[] times = {Instant.parse("2026-01-02T03:04:05Z"), Instant.parse("2026-01-02T03:04:05.1Z"),
                Instant.parse("1999-12-31T23:59:59.999999999Z"), Instant.ofEpochSecond(0, 1_000)};
        for (Instant at : times) {
            writer.probe("hub", new Timeout("127.0.0.1", InetAddress.getByName("127.0.0.1"), 0, at));
        }
        List<JsonNode> events = lines();
        for (int i = 0; i < times.length; i++) {
            String text = events.get(i).get("data").get("sent_at").asText();
            assertTrue(text.matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z"), text);
            assertEquals(times[i].truncatedTo(java.time.temporal.ChronoUnit.MICROS), Instant.parse(text), text);
        }
    }

    @Test
    void duplicateAndLateReplies() throws IOException {
        writer.probe("hub", reply("::1", "::1", 7, 1_500_000, Reply.Kind.DUPLICATE));
        writer.probe("hub", reply("::1", "::1", 8, 11_000_000_000L, Reply.Kind.LATE));
        List<JsonNode> events = lines();
        assertEquals("pkt_dup_recv", events.get(0).get("type").asText());
        assertTrue(events.get(0).get("data").get("dup").asBoolean(), "dup flag set on a duplicate");
        assertEquals("::1", events.get(0).get("data").get("ip_addr").asText());
        assertEquals(7, events.get(0).get("data").get("seq").asLong());
        assertEquals("pkt_late_recv", events.get(1).get("type").asText());
        assertFalse(events.get(1).get("data").get("dup").asBoolean(), "a late reply is not a duplicate");
        assertDecimal("11000", events.get(1).get("data").get("rtt"));
        assertEquals(names(events.get(0).get("data")), names(events.get(1).get("data")), "same fields as pkt_recv");
    }

    @Test
    void timeoutNamesTheProbe() throws IOException {
        writer.probe("hub", new Timeout("localhost", InetAddress.getByName("::1"), 12, SENT));
        JsonNode event = only();
        assertEquals("pkt_timeout", event.get("type").asText());
        JsonNode data = event.get("data");
        assertEquals(Set.of("target", "ip_addr", "seq", "sent_at"), names(data));
        assertEquals("localhost", data.get("target").asText());
        assertEquals("::1", data.get("ip_addr").asText(), "IPv6 in RFC 5952 form");
        assertEquals(12, data.get("seq").asLong());
        assertEquals("2026-11-27T04:55:41.837223Z", data.get("sent_at").asText());
    }

    @Test
    void seqIsNotTruncatedTo16Bits() throws IOException {
        writer.probe("hub", reply("127.0.0.1", "127.0.0.1", 70_000, 1_000, Reply.Kind.FIRST));
        assertEquals(70_000, only().get("data").get("seq").asLong());
    }

    @Test
    void errorCarriesTargetSeqAndAgentOnlyWhereSet() throws IOException {
        writer.probe("hub", ProbeError.ofTarget(ErrorCode.RESOLVE_FAILED, "does-not-exist.invalid",
                "host name 'does-not-exist.invalid' did not resolve"));
        writer.probe("hub", ProbeError.ofProbe(ErrorCode.SEND_FAILED, "127.0.0.2", 3, "sendto: Network is unreachable"));
        writer.agentError("agent-x", ProbeError.ofTarget(ErrorCode.AGENT_UNKNOWN, null, "no agent named 'agent-x'"));
        writer.probe("hub", ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null, "the engine stopped"));
        List<JsonNode> events = lines();
        events.forEach(e -> assertEquals("error", e.get("type").asText()));

        JsonNode resolve = events.get(0).get("data");
        assertEquals(Set.of("code", "message", "target"), names(resolve));
        assertEquals("resolve_failed", resolve.get("code").asText());
        assertEquals("does-not-exist.invalid", resolve.get("target").asText());
        assertEquals("host name 'does-not-exist.invalid' did not resolve", resolve.get("message").asText());

        JsonNode send = events.get(1).get("data");
        assertEquals(Set.of("code", "message", "target", "seq"), names(send));
        assertEquals("send_failed", send.get("code").asText());
        assertEquals(3, send.get("seq").asLong());

        JsonNode agent = events.get(2).get("data");
        assertEquals(Set.of("code", "message", "agent"), names(agent));
        assertEquals("agent_unknown", agent.get("code").asText());
        assertEquals("agent-x", agent.get("agent").asText());
        assertEquals("hub", events.get(2).get("metadata").get("from").asText(), "the hub reports an unknown agent");

        JsonNode stopped = events.get(3).get("data");
        assertEquals(Set.of("code", "message"), names(stopped));
        assertEquals("engine_stopped", stopped.get("code").asText());
    }

    @Test
    void pingStatsHasSeedFieldsAndOurs() throws IOException {
        List<Long> rtts = List.of(10_000_000L, 20_000_000L, 40_000_000L, 30_000_000L);
        writer.probe("hub", new TargetStats("localhost", InetAddress.getByName("127.0.0.1"), 5, 4, 1, rtts,
                List.of(64, 64, 63, 64)));
        JsonNode event = only();
        assertEquals("ping_stats", event.get("type").asText());
        JsonNode data = event.get("data");
        assertEquals(Set.of("ip_addr", "packets_sent", "packets_recv", "packets_recv_duplicates", "packet_loss", "rtts",
                "ttls", "min_rtt", "avg_rtt", "max_rtt", "std_dev_rtt", "target", "jitter", "p50", "p90", "p99"), names(data));
        assertEquals("127.0.0.1", data.get("ip_addr").asText());
        assertEquals("localhost", data.get("target").asText());
        assertEquals(5, data.get("packets_sent").asLong());
        assertEquals(4, data.get("packets_recv").asLong());
        assertEquals(1, data.get("packets_recv_duplicates").asLong());
        assertEquals(20.0, data.get("packet_loss").asDouble(), 1e-9, "1 of 5 lost, in percent");
        assertEquals(JSON.readTree("[10.0,20.0,40.0,30.0]"), data.get("rtts"), "in ms, in probe order");
        assertEquals(JSON.readTree("[64,64,63,64]"), data.get("ttls"));
        assertEquals(10.0, data.get("min_rtt").asDouble());
        assertEquals(25.0, data.get("avg_rtt").asDouble());
        assertEquals(40.0, data.get("max_rtt").asDouble());
        // population std dev of 10, 20, 40, 30: sqrt(125) = 11.1803...
        assertEquals(11.18, data.get("std_dev_rtt").asDouble(), 0.0011);
        assertDecimal("11.180", data.get("std_dev_rtt"));
        // |20-10| + |40-20| + |30-40| = 40 over 3 differences
        assertEquals(13.333, data.get("jitter").asDouble(), 1e-9);
        assertEquals(20.0, data.get("p50").asDouble(), "nearest rank: the 2nd of 4");
        assertEquals(40.0, data.get("p90").asDouble());
        assertEquals(40.0, data.get("p99").asDouble());
    }

    @Test
    void pingStatsOfAnUnresolvedTarget() throws IOException {
        writer.probe("hub", new TargetStats("does-not-exist.invalid", null, 3, 0, 0, List.of(), List.of()));
        JsonNode data = only().get("data");
        assertTrue(data.get("ip_addr").isNull(), "no address: null, not a made-up one");
        assertEquals(100.0, data.get("packet_loss").asDouble());
        assertEquals(0, data.get("rtts").size());
        assertEquals(0.0, data.get("avg_rtt").asDouble());
    }

    @Test
    void packetLossIsAPercentWithThreeDecimals() throws IOException {
        writer.probe("hub", new TargetStats("::1", InetAddress.getByName("::1"), 3, 2, 0,
                List.of(1_000L, 2_000L), List.of(64, 64)));
        assertDecimal("33.333", only().get("data").get("packet_loss"));
    }

    @Test
    void endCarriesTotals() throws IOException {
        writer.end(new TaskTotals(15, 13, 2, 1, Duration.ofMillis(1234).plusNanos(567_890)));
        JsonNode event = only();
        assertEquals("end", event.get("type").asText());
        JsonNode data = event.get("data");
        assertEquals(Set.of("sent", "received", "timeouts", "errors", "duration_ms"), names(data));
        assertEquals(15, data.get("sent").asLong());
        assertEquals(13, data.get("received").asLong());
        assertEquals(2, data.get("timeouts").asLong());
        assertEquals(1, data.get("errors").asLong());
        assertEquals(1234, data.get("duration_ms").asLong());
    }

    @Test
    void cursorCountsFromZeroAcrossEveryTypeAndMetadataNamesTheSender() throws IOException {
        writer.task(new TaskRequest(List.of("hub", "agent-1"), List.of("127.0.0.1"), Duration.ofMillis(1000), 1,
                Duration.ofMillis(1000), 56));
        writer.probe("agent-1", reply("127.0.0.1", "127.0.0.1", 0, 1_000, Reply.Kind.FIRST));
        writer.probe("hub", new Timeout("127.0.0.1", InetAddress.getByName("127.0.0.1"), 0, SENT));
        writer.agentError("agent-2", ProbeError.ofTarget(ErrorCode.AGENT_OFFLINE, null, "gone"));
        writer.keepAlive();
        writer.probe("agent-1", new TargetStats("127.0.0.1", InetAddress.getByName("127.0.0.1"), 1, 1, 0,
                List.of(1_000L), List.of(64)));
        writer.end(new TaskTotals(2, 1, 1, 1, Duration.ofMillis(5)));
        List<JsonNode> events = lines();
        assertEquals(List.of("task", "pkt_recv", "pkt_timeout", "error", "ping_stats", "end"),
                events.stream().map(e -> e.get("type").asText()).toList());
        assertEquals(List.of("hub", "agent-1", "hub", "hub", "agent-1", "hub"),
                events.stream().map(e -> e.get("metadata").get("from").asText()).toList());
        for (int i = 0; i < events.size(); i++) {
            JsonNode metadata = events.get(i).get("metadata");
            assertEquals(Set.of("from", "task", "cursor"), names(metadata));
            assertEquals(i, metadata.get("cursor").asLong(), "cursor of line " + i);
            assertEquals(TASK, metadata.get("task").asText());
        }
    }

    @Test
    void probeEventsLeaveWithTheNextFlushInWholeLines() throws IOException {
        writer.task(new TaskRequest(List.of("hub"), List.of("127.0.0.1"), Duration.ofMillis(1000), 2,
                Duration.ofMillis(1000), 56));
        writer.probe("hub", reply("127.0.0.1", "127.0.0.1", 0, 1_000, Reply.Kind.FIRST));
        writer.probe("hub", reply("127.0.0.1", "127.0.0.1", 1, 1_000, Reply.Kind.FIRST));
        assertEquals(1, out.flushed.size(), "the task line is flushed at once, probe lines wait for flush()");
        writer.flush();
        writer.end(new TaskTotals(2, 2, 0, 0, Duration.ofMillis(5)));
        assertEquals(3, out.flushed.size(), "task, the two probe lines together, end");
        List<Integer> linesPerFlush = new ArrayList<>();
        for (String chunk : out.flushed) {
            assertTrue(chunk.endsWith("\n"), "a flush sends whole lines: " + chunk);
            String[] lines = chunk.split("\n");
            for (String line : lines) {
                JSON.readTree(line);
            }
            linesPerFlush.add(lines.length);
        }
        assertEquals(List.of(1, 2, 1), linesPerFlush);
    }

    @Test
    void keepAliveIsAFlushedSpaceThatNdjsonReadersSkip() throws IOException {
        writer.task(new TaskRequest(List.of("hub"), List.of("127.0.0.1"), Duration.ofMillis(1000), 1,
                Duration.ofMillis(1000), 56));
        writer.keepAlive();
        writer.keepAlive();
        writer.end(new TaskTotals(0, 0, 0, 0, Duration.ZERO));
        assertEquals(" ", out.flushed.get(1));
        assertEquals(" ", out.flushed.get(2));
        List<JsonNode> events = lines();
        assertEquals(List.of("task", "end"), events.stream().map(e -> e.get("type").asText()).toList());
        // A streaming reader of concatenated values sees the same two events.
        Iterator<JsonNode> values = JSON.readerFor(JsonNode.class).readValues(out.text());
        List<String> types = new ArrayList<>();
        values.forEachRemaining(v -> types.add(v.get("type").asText()));
        assertEquals(List.of("task", "end"), types);
    }

    @Test
    void textIsEscaped() throws IOException {
        writer.probe("hub", ProbeError.ofTarget(ErrorCode.SEND_FAILED, "h\u00f6st", "said \"no\"\nand \\ left"));
        JsonNode data = only().get("data");
        assertEquals("said \"no\"\nand \\ left", data.get("message").asText());
        assertEquals("h\u00f6st", data.get("target").asText());
        assertFalse(out.text().substring(0, out.text().length() - 1).contains("\n"), "still one line");
    }

    @Test
    void aFailedWriteIsReported() {
        OutputStream closed = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        EventWriter broken = new EventWriter(closed, TASK);
        assertThrows(UncheckedIOException.class, broken::keepAlive);
        assertThrows(UncheckedIOException.class, () -> broken.end(new TaskTotals(0, 0, 0, 0, Duration.ZERO)));
    }

    /**
     * Every stream runs on a virtual thread of its own, so buffers kept per thread are never used twice: 2,000
     * streams at once made ~150 MB of Jackson buffers (8 KB + 4 KB for each line), and the young collections
     * that followed stalled every stream for 0.1-0.7 s. A line written on a thread that never wrote one before
     * must cost about its own size.
     */
    @Test
    void aLineOnAFreshThreadReusesBuffers() throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long[] allocated = new long[20];
        for (int i = 0; i < allocated.length; i++) {
            int n = i;
            Thread thread = Thread.ofPlatform().start(() -> { // a new thread each time, as each stream's is
                try {
                    EventWriter fresh = new EventWriter(OutputStream.nullOutputStream(), TASK);
                    Reply reply = reply("127.0.0.1", "127.0.0.1", n, 20_012_345, Reply.Kind.FIRST);
                    long before = threads.getCurrentThreadAllocatedBytes();
                    fresh.probe("hub", reply); // the first line of this thread: its buffers are made, or reused
                    allocated[n] = threads.getCurrentThreadAllocatedBytes() - before;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            thread.join();
        }
        long[] sorted = allocated.clone();
        java.util.Arrays.sort(sorted);
        long median = sorted[sorted.length / 2];
        assertTrue(median < 4_000, "bytes allocated for one line on a fresh thread: " + java.util.Arrays.toString(allocated));
    }
}
