package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.WallClock;
import io.mimoping.agent.lab.Behaviour;
import io.mimoping.agent.lab.ImpairmentLab;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outcomes are decided by the kernel's stamps, not by when the engine's loop gets to run. Here the engine's
 * monotonic clock runs at a quarter of real time, so its deadlines fire four times late, as on a host that stalls
 * the engine; the wall clock and the kernel's stamps run true. The lab answers each target after a fixed delay.
 */
class LateWindowTest {

    private static final long SLOWDOWN = 4;
    private static final Duration TIMEOUT = Duration.ofMillis(40);

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open(new SlowMonotonicClock(), 1);

    @Test
    void aStalledEngineJudgesEachReplyByItsKernelStamps() throws Exception {
        try (ImpairmentLab lab = ImpairmentLab.open(3)) {
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

    /** Monotonic time at a quarter speed from its creation; the wall clock as the kernel's stamps see it. */
    private static final class SlowMonotonicClock implements EngineClock {
        private final long origin = System.nanoTime();
        private final WallClock wall = new WallClock();

        @Override
        public long monotonicNanos() {
            return origin + (System.nanoTime() - origin) / SLOWDOWN;
        }

        @Override
        public synchronized long epochNanos() {
            return wall.nanos();
        }
    }
}
