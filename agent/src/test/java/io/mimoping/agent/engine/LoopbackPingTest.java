package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.ReceivedPacket;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackPingTest {

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();

    @Test
    void pingsLoopbackOverBothFamilies() throws Exception {
        List<ProbeEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<TaskTotals> done = new CompletableFuture<>();
        engine.start(new PingTask("t1", List.of("127.0.0.1", "::1"), Duration.ofMillis(20), 3,
                Duration.ofSeconds(1), 56), new ProbeListener() {
            @Override
            public void onEvent(ProbeEvent event) {
                events.add(event);
            }

            @Override
            public void onFinished(TaskTotals totals) {
                done.complete(totals);
            }
        });
        TaskTotals totals = done.get(5, TimeUnit.SECONDS);
        assertEquals(6, totals.sent());
        assertEquals(6, totals.received());
        assertEquals(6, events.stream().filter(e -> e instanceof Reply).count());
        assertEquals(2, events.stream().filter(e -> e instanceof TargetStats).count());
        for (ProbeEvent e : events) {
            if (e instanceof Reply r) {
                assertEquals(64, r.nbytes());
                assertTrue(r.rttNanos() > 0 && r.rttNanos() < 10_000_000, "rtt " + r.rttNanos());
                assertTrue(r.ttl() > 0, "ttl " + r.ttl());
            }
        }
    }

    @Test
    void theTimeoutIsPerProbeNotForTheWholeRun() throws Exception {
        // 5 probes 100 ms apart take 400 ms; each waits 50 ms at most, which loopback replies easily beat.
        RecordingListener listener = new RecordingListener();
        engine.start(new PingTask("per-probe", List.of("127.0.0.1", "::1"), Duration.ofMillis(100), 5,
                Duration.ofMillis(50), 56), listener);
        TaskTotals totals = listener.await(Duration.ofSeconds(5));

        assertEquals(List.of(), listener.all(Timeout.class));
        assertEquals(10, totals.sent());
        assertEquals(10, totals.received());
        assertEquals(0, totals.timeouts());
        assertEquals(0, totals.errors());
        assertTrue(totals.duration().compareTo(Duration.ofMillis(400)) >= 0, "ran " + totals.duration());
        for (String target : List.of("127.0.0.1", "::1")) {
            List<Reply> replies = listener.replies(target);
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), replies.stream().map(Reply::seq).toList());
            assertTrue(replies.stream().allMatch(r -> r.kind() == Reply.Kind.FIRST), replies.toString());
            // Each probe keeps its place 100 ms after the one before; a probe sent late (a busy host) does not
            // move the next, so one gap may be short by as much as the other is long.
            Duration span = Duration.between(replies.getFirst().sentAt(), replies.getLast().sentAt());
            assertTrue(span.compareTo(Duration.ofMillis(380)) >= 0, "probes 0 to 4 only " + span + " apart");
            for (int i = 1; i < replies.size(); i++) {
                Duration gap = Duration.between(replies.get(i - 1).sentAt(), replies.get(i).sentAt());
                assertTrue(gap.compareTo(Duration.ofMillis(50)) >= 0, "probes " + (i - 1) + " and " + i
                        + " only " + gap + " apart");
            }
            assertEquals(0.0, listener.stats(target).getFirst().lossPercent());
        }
    }

    @Test
    void cancelStopsSendingAtOnce() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        // Its own engine, and a raw socket that sees every echo request sent to loopback.
        try (IcmpEngine own = IcmpEngine.open();
             IcmpSocket sniffer = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.RAW)) {
            sniffer.acceptOnly(IcmpFamily.V4.echoRequest());
            sniffer.receiveBuffer(1 << 20);
            RecordingListener listener = new RecordingListener();
            RunningTask running = own.start(new PingTask("cancelled", List.of("127.0.0.1"), Duration.ofMillis(10),
                    1000, Duration.ofSeconds(1), 56), listener);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (listener.replies("127.0.0.1").size() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(listener.replies("127.0.0.1").size() >= 5, "the task runs before it is cancelled");

            long cancelledAt = System.nanoTime();
            running.cancel();
            TaskTotals totals = listener.await(Duration.ofSeconds(2));
            Duration toFinish = Duration.ofNanos(listener.finishedAtNanos() - cancelledAt);
            assertTrue(toFinish.compareTo(Duration.ofMillis(250)) < 0, "onFinished " + toFinish + " after cancel");

            Thread.sleep(300); // 30 intervals: a task that kept going would have sent and reported more
            running.cancel(); // a second cancel does nothing
            Thread.sleep(50);
            assertEquals(1, listener.finishes.get(), "one onFinished");
            assertEquals(0, listener.eventsAfterFinish.get(), "no events after onFinished");
            assertTrue(totals.sent() >= 5 && totals.sent() < 100, "sent " + totals.sent() + " of 1000");
            assertEquals(0, totals.timeouts());
            assertTrue(totals.received() <= totals.sent());
            assertFalse(listener.events.stream().anyMatch(e -> e instanceof ProbeError), listener.events.toString());

            // Every echo request this engine put on the wire was counted before onFinished; none came after.
            int engineId = listener.replies("127.0.0.1").getFirst().id();
            long requests = 0;
            ReceivedPacket packet = new ReceivedPacket();
            while (sniffer.receive(packet)) {
                if (packet.sourceIs(loopback.getAddress()) && packet.length() >= IcmpEcho.HEADER
                        && IcmpEcho.id(packet.message(), packet.offset()) == engineId) {
                    requests++;
                }
            }
            assertEquals(totals.sent(), requests, "echo requests seen on loopback");
        }
    }
}
