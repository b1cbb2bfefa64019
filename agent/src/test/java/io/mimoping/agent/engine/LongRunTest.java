package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** More probes per target than 16-bit sequence numbers can tell apart, and kernel timestamps on loopback. */
class LongRunTest {

    private static final int COUNT = 70_000;

    /** Marks each (target, seq) answered; anything else is counted as a problem. */
    private static final class SeqListener implements ProbeListener {
        final Map<String, BitSet> answered = new ConcurrentHashMap<>();
        final Map<String, TargetStats> stats = new ConcurrentHashMap<>();
        final AtomicLong problems = new AtomicLong();
        final AtomicLong maxRtt = new AtomicLong();
        volatile String firstProblem;
        final CompletableFuture<TaskTotals> done = new CompletableFuture<>();

        @Override
        public void onEvent(ProbeEvent event) {
            switch (event) {
                case Reply reply when reply.kind() == Reply.Kind.FIRST -> {
                    BitSet seqs = answered.computeIfAbsent(reply.target(), t -> new BitSet(COUNT));
                    if (seqs.get((int) reply.seq())) {
                        problem("seq " + reply.seq() + " of " + reply.target() + " answered twice");
                    }
                    seqs.set((int) reply.seq());
                    maxRtt.accumulateAndGet(reply.rttNanos(), Math::max);
                }
                case TargetStats s -> stats.put(s.target(), s);
                case Reply reply -> problem(reply.toString());
                case Timeout timeout -> problem(timeout.toString());
                case ProbeError error -> problem(error.toString());
            }
        }

        private void problem(String what) {
            if (problems.getAndIncrement() == 0) {
                firstProblem = what;
            }
        }

        @Override
        public void onFinished(TaskTotals totals) {
            done.complete(totals);
        }
    }

    @Test
    void seventyThousandProbesPerTargetAreEachMatchedToTheirOwnSeq() throws Exception {
        List<String> targets = List.of("127.0.0.1", "127.0.0.2", "::1");
        try (IcmpEngine engine = IcmpEngine.open()) {
            SeqListener listener = new SeqListener();
            // Interval 0: every probe is due at once, so the engine sends as fast as it can, in rounds.
            engine.start(new PingTask("long", targets, Duration.ZERO, COUNT, Duration.ofSeconds(5), 16), listener);
            TaskTotals totals = listener.done.get(120, TimeUnit.SECONDS);

            assertEquals(0, listener.problems.get(), () -> listener.problems.get() + " problems, first: "
                    + listener.firstProblem);
            assertEquals(3L * COUNT, totals.sent());
            assertEquals(3L * COUNT, totals.received());
            for (String target : targets) {
                assertEquals(COUNT, listener.answered.get(target).cardinality(), target);
                assertEquals(COUNT, listener.stats.get(target).received(), target);
            }
            EngineStats stats = engine.stats();
            assertEquals(0, stats.kernelDrops(), "nothing lost to a full receive buffer: " + stats);
            assertEquals(0, stats.userClockReplies(), "every RTT from kernel timestamps on loopback: " + stats);
            assertTrue(stats.sent() >= 3L * COUNT, stats.toString());
            assertEquals(0, stats.slotsInUse(), "the finished task's slots are free again: " + stats);
        }
    }

    @Test
    void loopbackGetsKernelTransmitTimestamps() {
        try (IcmpEngine engine = IcmpEngine.open()) {
            for (IcmpFamily family : IcmpFamily.values()) {
                Timestamping timestamping = engine.timestamping(family).orElseThrow();
                assertTrue(timestamping.kernelTransmit(), timestamping.toString());
                assertTrue(timestamping.kernelReceive(), timestamping.toString());
            }
            assertEquals(Math.min(2, Runtime.getRuntime().availableProcessors()), engine.shards());
        }
    }
}
