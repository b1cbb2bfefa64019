package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.WallClock;
import io.mimoping.agent.lab.Behaviour;
import io.mimoping.agent.lab.ImpairmentLab;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
            assertInRange(lateReply.rttNanos(), delays.get(1));

            List<ProbeEvent> pastWindow = outcomes(listener, targets.get(2));
            assertEquals(1, pastWindow.size(), () -> "a reply 110 ms after the send, timeout 40 ms, is neither in time"
                    + " nor late, only a timeout: " + pastWindow);
            assertInstanceOf(Timeout.class, pastWindow.getFirst());
            assertTrue(lab.handled(InetAddress.getByName(targets.get(2))).getFirst().answers().getFirst().departure()
                    .isPresent(), "the lab sent its 110 ms reply");
        }
    }

    /**
     * The engine's monotonic clock jumps 3 s ahead 450 ms into a task of probes 200 ms apart, as after a 3 s stall
     * of the process: the fifteen probes it missed are not sent at once; the walk goes on an interval apart.
     */
    @Test
    void probesMissedInAStallLeaveAnIntervalApartNotInABurst() throws Exception {
        Duration interval = Duration.ofMillis(200);
        try (IcmpEngine engine = IcmpEngine.open(new JumpingMonotonicClock(Duration.ofMillis(450),
                Duration.ofSeconds(3)), 1)) {
            RecordingListener listener = new RecordingListener();
            engine.start(new PingTask("stall", List.of("127.0.0.1"), interval, 8, Duration.ofSeconds(1), 56), listener);
            listener.await(Duration.ofSeconds(10));
            List<Reply> replies = listener.replies("127.0.0.1");
            assertEquals(8, replies.size(), () -> "every probe answered: " + listener.events);
            List<Long> gaps = new ArrayList<>();
            for (int i = 1; i < replies.size(); i++) {
                gaps.add(Duration.between(replies.get(i - 1).sentAt(), replies.get(i).sentAt()).toMillis());
            }
            // On time until the jump; the probe due in it leaves at once; the rest an interval apart.
            assertTrue(gaps.stream().allMatch(gap -> gap >= interval.toMillis() / 2), "gaps between sends, ms: " + gaps);
        }
    }

    /** The replies and timeouts of the target's first probe, in order. */
    private static List<ProbeEvent> outcomes(RecordingListener listener, String target) {
        return listener.of(target).stream()
                .filter(e -> e instanceof Reply r && r.seq() == 0 || e instanceof Timeout t && t.seq() == 0).toList();
    }

    private static void assertInRange(long rttNanos, Duration delay) {
        long over = rttNanos - delay.toNanos();
        assertTrue(over >= 0 && over < Duration.ofMillis(5).toNanos(),
                () -> "rtt " + rttNanos + " ns for a reply delayed " + delay);
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

    /** Monotonic time that jumps {@code by} ahead {@code at} after its creation. */
    private static final class JumpingMonotonicClock extends TrueWallClock {
        private final long at;
        private final long by;

        JumpingMonotonicClock(Duration at, Duration by) {
            this.at = at.toNanos();
            this.by = by.toNanos();
        }

        @Override
        public long monotonicNanos() {
            long elapsed = System.nanoTime() - origin;
            return origin + elapsed + (elapsed >= at ? by : 0);
        }
    }
}
