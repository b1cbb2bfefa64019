package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.WallClock;
import io.mimoping.agent.lab.Behaviour;
import io.mimoping.agent.lab.ImpairmentLab;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine on a host that stalls it, played by its monotonic clock (the wall clock and the kernel's stamps run
 * true): outcomes are decided by the kernel's stamps, not by when the engine's loop gets to run, and probes
 * missed during a stall do not leave in a burst.
 */
class StalledEngineTest {

    private static final long SLOWDOWN = 4;
    private static final Duration TIMEOUT = Duration.ofMillis(40);

    /**
     * The engine's monotonic clock runs at a quarter of real time, so its deadlines fire four times late. The lab
     * answers each target after a fixed delay.
     */
    @Test
    void aStalledEngineJudgesEachReplyByItsKernelStamps() throws Exception {
        try (IcmpEngine engine = IcmpEngine.open(new SlowMonotonicClock(), 1);
             ImpairmentLab lab = ImpairmentLab.open(3)) {
            // In time; late (after the timeout, within twice it); past the late window (twice the timeout or more).
            List<Duration> delays = List.of(Duration.ofMillis(10), Duration.ofMillis(60), Duration.ofMillis(110));
            List<String> targets = new ArrayList<>();
            for (int i = 0; i < delays.size(); i++) {
                InetAddress target = lab.target(IcmpFamily.V4, i);
                lab.behave(target, new Behaviour.Echo(delays.get(i)));
                targets.add(target.getHostAddress());
            }
            RecordingListener listener = new RecordingListener();
            // Two probes each, so that the first probe's late reply comes while its target still runs (a target
            // ends with its last outcome). The engine's deadlines and forgetting run four times late: the first
            // probe is forgotten 320 ms of real time after its send, the second leaves after 400 ms.
            engine.start(new PingTask("stalled", targets, Duration.ofMillis(100), 2, TIMEOUT, 56), listener);
            listener.await(Duration.ofSeconds(10));

            List<ProbeEvent> inTime = outcomes(listener, targets.get(0));
            assertEquals(1, inTime.size(), () -> "the first probe to the 10 ms target: " + inTime);
            Reply reply = assertInstanceOf(Reply.class, inTime.getFirst());
            assertEquals(Reply.Kind.FIRST, reply.kind());

            List<ProbeEvent> late = outcomes(listener, targets.get(1));
            assertEquals(2, late.size(), () -> "the first probe to the 60 ms target: " + late);
            assertInstanceOf(Timeout.class, late.get(0));
            Reply lateReply = assertInstanceOf(Reply.class, late.get(1));
            assertEquals(Reply.Kind.LATE, lateReply.kind());
            assertTrue(lateReply.rttNanos() >= delays.get(1).toNanos()
                    && lateReply.rttNanos() < TIMEOUT.multipliedBy(2).toNanos(), "the 60 ms reply's rtt, within the late"
                    + " window: " + lateReply);

            List<ProbeEvent> pastWindow = outcomes(listener, targets.get(2));
            assertEquals(1, pastWindow.size(), () -> "a reply 110 ms after the send, timeout 40 ms, is neither in time"
                    + " nor late, only a timeout: " + pastWindow);
            assertInstanceOf(Timeout.class, pastWindow.getFirst());
            assertTrue(lab.handled(InetAddress.getByName(targets.get(2))).getFirst().answers().getFirst().departure()
                    .isPresent(), "the lab sent its 110 ms reply");
        }
    }

    /**
     * The engine's monotonic clock jumps 3 s ahead once the third reply is in, as after a 3 s stall of the process,
     * in a shard running two tasks of probes 200 ms apart: one of 20 targets, more than one send batch, and one of
     * a single target. The probes missed are not sent at once, by either task; each walk goes on an interval apart.
     */
    @Test
    void probesMissedInAStallLeaveAnIntervalApartNotInABurst() throws Exception {
        Duration interval = Duration.ofMillis(200);
        int count = 12;
        JumpingMonotonicClock clock = new JumpingMonotonicClock(Duration.ofSeconds(3));
        try (IcmpEngine engine = IcmpEngine.open(clock, 1)) {
            List<String> many = IntStream.rangeClosed(1, 20).mapToObj(i -> "127.0.0." + i).toList();
            RecordingListener manyListener = new RecordingListener();
            RecordingListener oneListener = new RecordingListener();
            engine.start(new PingTask("stall-many", many, interval, count, Duration.ofSeconds(1), 56), new ProbeListener() {
                @Override
                public void onEvent(ProbeEvent event) {
                    if (event instanceof Reply reply && reply.seq() == 2) {
                        clock.jump();
                    }
                    manyListener.onEvent(event);
                }

                @Override
                public void onFinished(TaskTotals totals) {
                    manyListener.onFinished(totals);
                }
            });
            engine.start(new PingTask("stall-one", List.of("127.0.0.21"), interval, count, Duration.ofSeconds(1), 56),
                    oneListener);
            manyListener.await(Duration.ofSeconds(20));
            oneListener.await(Duration.ofSeconds(20));
            assertTrue(clock.jumped(), "the clock jumped");

            Map<String, RecordingListener> byTarget = new HashMap<>();
            many.forEach(target -> byTarget.put(target, manyListener));
            byTarget.put("127.0.0.21", oneListener);
            byTarget.forEach((target, listener) -> {
                List<Reply> replies = listener.replies(target);
                assertEquals(count, replies.size(), () -> "every probe to " + target + " answered: " + listener.events);
                List<Long> gaps = new ArrayList<>();
                for (int i = 1; i < replies.size(); i++) {
                    gaps.add(Duration.between(replies.get(i - 1).sentAt(), replies.get(i).sentAt()).toMillis());
                }
                // Without catching up, the nine probes after the stall leave together. With it, only the probe due
                // in the stall leaves at once after the one before (and a host delay may bring two together).
                assertTrue(gaps.stream().filter(gap -> gap < 20).count() <= 2, "gaps between sends to " + target
                        + ", ms: " + gaps);
            });
        }
    }

    /** The replies and timeouts of the target's first probe, in order. */
    private static List<ProbeEvent> outcomes(RecordingListener listener, String target) {
        return listener.of(target).stream()
                .filter(e -> e instanceof Reply r && r.seq() == 0 || e instanceof Timeout t && t.seq() == 0).toList();
    }

    /** The wall clock as the kernel's stamps see it, for the clocks below. */
    private abstract static class TrueWallClock implements EngineClock {
        final long origin = System.nanoTime();
        private final WallClock wall = new WallClock();

        @Override
        public synchronized long epochNanos() {
            return wall.nanos();
        }
    }

    /** Monotonic time at a quarter speed from its creation. */
    private static final class SlowMonotonicClock extends TrueWallClock {
        @Override
        public long monotonicNanos() {
            return origin + (System.nanoTime() - origin) / SLOWDOWN;
        }
    }

    /** Monotonic time that jumps {@code by} ahead at the first {@link #jump()}. */
    private static final class JumpingMonotonicClock extends TrueWallClock {
        private final long by;
        private volatile boolean jumped;

        JumpingMonotonicClock(Duration by) {
            this.by = by.toNanos();
        }

        void jump() {
            jumped = true;
        }

        boolean jumped() {
            return jumped;
        }

        @Override
        public long monotonicNanos() {
            return System.nanoTime() + (jumped ? by : 0);
        }
    }
}
