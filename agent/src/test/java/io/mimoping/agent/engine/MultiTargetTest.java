package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many targets in one task, on loopback: every address of 127.0.0.0/8 answers. */
class MultiTargetTest {

    private static final String UNRESOLVABLE = "does-not-exist.invalid"; // RFC 6761: never resolves

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();

    @Test
    void fiftyTargetsAtOnceEachGetTheirOwnReplies() throws Exception {
        List<String> targets = IntStream.range(0, 50).mapToObj(i -> "127.20." + (i / 10) + "." + (i % 10 + 1)).toList();
        RecordingListener listener = new RecordingListener();
        engine.start(new PingTask("fifty", targets, Duration.ofMillis(10), 3, Duration.ofSeconds(2), 56), listener);
        TaskTotals totals = listener.await(Duration.ofSeconds(10));

        assertEquals(List.of(), listener.all(Timeout.class));
        assertEquals(List.of(), listener.all(ProbeError.class));
        // One identifier per engine shard: replies carry those and no other.
        java.util.Set<Integer> engineIds = new java.util.HashSet<>();
        listener.all(Reply.class).forEach(r -> engineIds.add(r.id()));
        assertTrue(engineIds.size() <= engine.shards(), "identifiers " + engineIds);
        for (String target : targets) {
            InetAddress address = InetAddress.getByName(target);
            List<Reply> replies = listener.replies(target);
            assertEquals(List.of(0L, 1L, 2L), replies.stream().map(Reply::seq).toList(), target);
            List<Long> rtts = new ArrayList<>();
            List<Integer> ttls = new ArrayList<>();
            for (Reply reply : replies) {
                assertEquals(Reply.Kind.FIRST, reply.kind(), target);
                assertEquals(address, reply.address(), "reply to " + target + " came from its own address");
                assertEquals(64, reply.nbytes(), "8-byte header + 56-byte payload");
                assertTrue(reply.ttl() > 0, "ttl " + reply.ttl());
                assertTrue(reply.rttNanos() > 0 && reply.rttNanos() < 1_000_000_000L, "rtt " + reply.rttNanos());
                rtts.add(reply.rttNanos());
                ttls.add(reply.ttl());
            }
            List<TargetStats> stats = listener.stats(target);
            assertEquals(1, stats.size(), "one ping_stats for " + target);
            TargetStats s = stats.getFirst();
            assertEquals(address, s.address());
            assertEquals(3, s.sent());
            assertEquals(3, s.received());
            assertEquals(0, s.duplicates());
            assertEquals(0.0, s.lossPercent());
            assertEquals(rtts, s.rttNanos(), "stats carry the RTTs the replies reported, in probe order");
            assertEquals(ttls, s.ttls());
            List<ProbeEvent> ofTarget = listener.of(target);
            assertEquals(s, ofTarget.getLast(), "ping_stats is the target's last event");
        }
        assertEquals(50 * 3 + 50, listener.events.size(), "150 replies and 50 ping_stats, nothing else");
        assertEquals(150, totals.sent());
        assertEquals(150, totals.received());
        assertEquals(0, totals.timeouts());
        assertEquals(0, totals.errors());
        assertTrue(totals.duration().compareTo(Duration.ofMillis(20)) >= 0,
                "the third probe of each target goes out 2 intervals after its first: " + totals.duration());
        assertEquals(1, listener.finishes.get());
        assertEquals(0, listener.eventsAfterFinish.get());
    }

    @Test
    void aNameThatDoesNotResolveFailsAloneWhileTheOtherTargetsRun() throws Exception {
        RecordingListener listener = new RecordingListener();
        engine.start(new PingTask("mixed", List.of(UNRESOLVABLE, "127.0.0.1"), Duration.ofMillis(10), 3,
                Duration.ofSeconds(1), 56), listener);
        TaskTotals totals = listener.await(Duration.ofSeconds(10));

        List<ProbeEvent> failed = listener.of(UNRESOLVABLE);
        assertEquals(1, failed.size(), "one error and nothing else for the unresolvable target: " + failed);
        ProbeError error = (ProbeError) failed.getFirst();
        assertEquals(ErrorCode.RESOLVE_FAILED, error.code());
        assertEquals(UNRESOLVABLE, error.target());
        assertTrue(error.seq().isEmpty(), "about the target, not a probe");
        assertTrue(error.message().contains(UNRESOLVABLE), error.message());

        assertEquals(List.of(0L, 1L, 2L), listener.replies("127.0.0.1").stream()
                .filter(r -> r.kind() == Reply.Kind.FIRST).map(Reply::seq).toList());
        assertEquals(1, listener.stats("127.0.0.1").size());
        assertEquals(3, listener.stats("127.0.0.1").getFirst().received());

        assertEquals(3, totals.sent());
        assertEquals(3, totals.received());
        assertEquals(0, totals.timeouts());
        assertEquals(1, totals.errors());
    }

    @Test
    void aTaskWhoseOnlyTargetDoesNotResolveStillFinishes() throws Exception {
        RecordingListener listener = new RecordingListener();
        engine.start(new PingTask("none", List.of(UNRESOLVABLE), Duration.ofMillis(10), 3, Duration.ofSeconds(1), 56),
                listener);
        TaskTotals totals = listener.await(Duration.ofSeconds(10));
        assertEquals(1, listener.events.size());
        assertEquals(ErrorCode.RESOLVE_FAILED, ((ProbeError) listener.events.getFirst()).code());
        assertEquals(0, totals.sent());
        assertEquals(1, totals.errors());
        assertEquals(1, listener.finishes.get());
    }
}
