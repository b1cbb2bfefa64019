package io.mimoping.agent.lab;

import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real engine against targets in an {@link ImpairmentLab}: what it reports under delay, loss,
 * duplicates, silence, spoiled and late replies, and that it accounts for every probe exactly once.
 */
class ImpairedEngineTest {

    private static final long ONE_MS = 1_000_000L;

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();

    @BeforeAll
    static void engineSendsBothFamilies() {
        for (IcmpFamily family : IcmpFamily.values()) {
            assertTrue(engine.unavailable(family).isEmpty(), () -> engine.unavailable(family).orElseThrow());
        }
    }

    @Test
    void measuresADelayToWithinAMillisecond() throws Exception {
        Duration delay = Duration.ofMillis(20);
        try (ImpairmentLab lab = ImpairmentLab.open(1)) {
            List<String> targets = both(lab, 0, new Behaviour.Echo(delay));
            RecordedTask run = RecordedTask.run(engine, task(targets, 20, 25, 200));

            List<Long> errors = new ArrayList<>();
            List<Long> outbound = new ArrayList<>();
            List<Long> nominal = new ArrayList<>();
            List<Long> labLate = new ArrayList<>();
            for (String target : targets) {
                List<Reply> replies = run.replies(target, Reply.Kind.FIRST);
                assertEquals(20, replies.size(), () -> "replies of " + target + ": " + run.events());
                List<HandledRequest> handled = lab.handled(InetAddress.getByName(target));
                for (Reply reply : replies) {
                    HandledRequest request = handled.stream().filter(r -> r.seq() == reply.seq()).findFirst()
                            .orElseThrow();
                    // The delay the lab really applied: from the request's kernel RX stamp to the reply's kernel
                    // TX stamp. A stalled responder sends late; the engine must measure what really happened.
                    Duration applied = request.applied(request.answers().getFirst()).orElseThrow();
                    long error = reply.rttNanos() - applied.toNanos();
                    // From the engine's send timestamp to the request's arrival at the target: the outbound part
                    // of the path; the rest of the error is the path back.
                    long out = Duration.between(reply.sentAt(), request.arrival()).toNanos();
                    assertTrue(Math.abs(error) < ONE_MS, () -> "rtt " + reply.rttNanos() + " ns, the lab applied "
                            + applied.toNanos() + " ns, of which " + out + " ns from the send timestamp to the target,"
                            + " for " + reply);
                    errors.add(error);
                    outbound.add(out);
                    nominal.add(reply.rttNanos() - delay.toNanos());
                    labLate.add(applied.minus(delay).toNanos());
                }
            }
            System.out.printf("RTT error at 20 ms over %d replies, against the delay the lab applied: mean %.1f us,"
                            + " max %.1f us; send timestamp to target: mean %.1f us, max %.1f us; against the"
                            + " nominal delay: mean %.1f us, max %.1f us; lab late: mean %.1f us, max %.1f us%n",
                    errors.size(), mean(errors) / 1e3, max(errors) / 1e3, mean(outbound) / 1e3, max(outbound) / 1e3,
                    mean(nominal) / 1e3, max(nominal) / 1e3, mean(labLate) / 1e3, max(labLate) / 1e3);
        }
    }

    @Test
    void timesOutExactlyTheProbesTheNetworkDropped() throws Exception {
        try (ImpairmentLab lab = ImpairmentLab.open(1)) {
            List<String> targets = both(lab, 0, new Behaviour.Loss(0.3, 42, Behaviour.echo()));
            RecordedTask run = RecordedTask.run(engine, task(targets, 40, 5, 100));

            for (String target : targets) {
                List<HandledRequest> handled = lab.handled(InetAddress.getByName(target));
                assertEquals(seqs(40), handled.stream().map(r -> (long) r.seq()).toList(), "requests that arrived");
                List<Long> dropped = handled.stream().filter(HandledRequest::dropped).map(r -> (long) r.seq()).toList();
                assertTrue(dropped.size() >= 4 && dropped.size() <= 20, "dropped " + dropped);

                assertEquals(dropped, run.timedOut(target).stream().filter(dropped::contains).toList());
                // The kept ones get their reply unless the lab's reply really left after the timeout.
                ActualOutcomes.check(lab, run, target, 40, Duration.ofMillis(100));
            }
        }
    }

    @Test
    void reportsDuplicatesWithoutCountingThemAsReceived() throws Exception {
        try (ImpairmentLab lab = ImpairmentLab.open(1)) {
            List<String> targets = both(lab, 0, new Behaviour.Duplicate(3, Duration.ZERO));
            RecordedTask run = RecordedTask.run(engine, task(targets, 5, 10, 100));

            for (String target : targets) {
                assertEquals(seqs(5), run.replies(target, Reply.Kind.FIRST).stream().map(Reply::seq).toList());
                List<Reply> duplicates = run.replies(target, Reply.Kind.DUPLICATE);
                // The target finishes with its last probe's first reply: that probe's copies come too late to count.
                for (long seq = 0; seq < 4; seq++) {
                    long s = seq;
                    assertEquals(2, duplicates.stream().filter(d -> d.seq() == s).count(), "duplicates of seq " + seq);
                }
                TargetStats stats = run.stats(target);
                assertEquals(5, stats.received());
                assertEquals(5, stats.rttNanos().size());
                assertEquals(duplicates.size(), stats.duplicates());
                assertEquals(0, stats.lossPercent());
            }
            assertEquals(10, run.totals().received());
            assertEquals(0, run.totals().timeouts());
        }
    }

    @Test
    void reportsOnlyTimeoutsFromABlackHole() throws Exception {
        try (ImpairmentLab lab = ImpairmentLab.open(1)) {
            List<String> targets = both(lab, 0, new Behaviour.BlackHole());
            RecordedTask run = RecordedTask.run(engine, task(targets, 5, 10, 50));

            for (String target : targets) {
                assertEquals(5, lab.handled(InetAddress.getByName(target)).size(), "requests that arrived");
                List<ProbeEvent> events = run.of(target);
                assertEquals(6, events.size(), () -> "events of " + target + ": " + events);
                assertEquals(seqs(5), run.timedOut(target));
                TargetStats stats = run.stats(target);
                assertEquals(5, stats.sent());
                assertEquals(0, stats.received());
                assertEquals(100.0, stats.lossPercent());
                assertEquals(List.of(), stats.rttNanos());
            }
            assertEquals(10, run.totals().sent());
            assertEquals(10, run.totals().timeouts());
            assertEquals(0, run.totals().received());
        }
    }

    @Test
    void ignoresRepliesWithAForeignIdentifierCookieOrChecksum() throws Exception {
        List<Behaviour.Tamper> v4 = List.of(Behaviour.Tamper.FOREIGN_ID, Behaviour.Tamper.WRONG_COOKIE,
                Behaviour.Tamper.BAD_CHECKSUM);
        List<Behaviour.Tamper> v6 = List.of(Behaviour.Tamper.FOREIGN_ID, Behaviour.Tamper.WRONG_COOKIE);
        try (ImpairmentLab lab = ImpairmentLab.open(3)) {
            Map<String, Behaviour.Tamper> tampers = new HashMap<>();
            for (IcmpFamily family : IcmpFamily.values()) {
                List<Behaviour.Tamper> kinds = family == IcmpFamily.V4 ? v4 : v6;
                for (int i = 0; i < kinds.size(); i++) {
                    InetAddress target = lab.target(family, i);
                    lab.behave(target, new Behaviour.Select(Set.of(1, 3), new Behaviour.Tampered(kinds.get(i)),
                            Behaviour.echo()));
                    tampers.put(target.getHostAddress(), kinds.get(i));
                }
            }
            RecordedTask run = RecordedTask.run(engine, task(List.copyOf(tampers.keySet()), 5, 10, 50));

            for (Map.Entry<String, Behaviour.Tamper> entry : tampers.entrySet()) {
                String target = entry.getKey();
                String which = entry.getValue() + " to " + target;
                // Only the correct replies count, as the lab really sent them: 0, 2 and 4 unless it sent them late.
                ActualOutcomes.check(lab, run, target, 5, Duration.ofMillis(50));
                for (long seq : List.of(1L, 3L)) {
                    assertEquals(List.of(Timeout.class), run.of(target, seq).stream().map(Object::getClass).toList(),
                            () -> which + ": " + run.of(target));
                }
            }
            assertEquals(0, run.totals().errors());
        }
    }

    @Test
    void reportsALateReplyOnceAfterItsTimeout() throws Exception {
        Duration late = Duration.ofMillis(60);
        Duration timeout = Duration.ofMillis(40);
        try (ImpairmentLab lab = ImpairmentLab.open(1)) {
            List<String> targets = both(lab, 0, new Behaviour.Select(Set.of(1), new Behaviour.Duplicate(2, late),
                    Behaviour.echo()));
            // Probe 1 times out at 40 ms, its replies come at 60 ms, it is forgotten at 80 ms, the target ends at 150 ms.
            RecordedTask run = RecordedTask.run(engine, task(targets, 4, 50, timeout.toMillis()));

            for (String target : targets) {
                // Judged by when the lab's replies really left: the others in time, probe 1's in the late window,
                // unless a stalled host held them up.
                ActualOutcomes.check(lab, run, target, 4, timeout);
                List<ProbeEvent> probe = run.of(target, 1);
                assertTrue(probe.getFirst() instanceof Timeout, () -> "events of seq 1: " + probe);
                HandledRequest request = lab.handled(InetAddress.getByName(target)).stream()
                        .filter(r -> r.seq() == 1).findFirst().orElseThrow();
                Duration applied = request.answers().stream().flatMap(a -> request.applied(a).stream())
                        .min(Comparator.naturalOrder()).orElseThrow();
                for (ProbeEvent event : probe.subList(1, probe.size())) {
                    Reply reply = (Reply) event;
                    assertEquals(Reply.Kind.LATE, reply.kind());
                    assertTrue(Math.abs(reply.rttNanos() - applied.toNanos()) < ONE_MS, "late rtt " + reply.rttNanos()
                            + " ns, the lab applied " + applied);
                }
            }
            assertEquals(run.totals().sent(), run.totals().received() + run.totals().timeouts());
        }
    }

    @Test
    void countsAReplyThatArrivedInTimeThoughTheEngineRanLate() throws Exception {
        Duration timeout = Duration.ofMillis(20);
        // The scenario needs the lab on time; a stalled host may make it late, then the run proves nothing
        // (though it is still judged) and is tried again.
        for (int attempt = 1; ; attempt++) {
            try (ImpairmentLab lab = ImpairmentLab.open(1)) {
                InetAddress early = lab.target(IcmpFamily.V6, 0);
                InetAddress inTime = lab.target(IcmpFamily.V4, 0);
                lab.behave(early, new Behaviour.Echo(Duration.ofMillis(5)));
                lab.behave(inTime, new Behaviour.Echo(Duration.ofMillis(15)));
                // The engine thread is held up from 5 ms to 35 ms, as a loaded host might: the reply of
                // inTime arrives at 15 ms, before its 20 ms deadline, but is read only after that deadline.
                RecordedTask run = RecordedTask.run(engine, task(List.of(early.getHostAddress(),
                        inTime.getHostAddress()), 1, 10, timeout.toMillis()), event -> {
                            if (event instanceof Reply reply && reply.address().equals(early)) {
                                sleep(Duration.ofMillis(30));
                            }
                        });

                ActualOutcomes held = ActualOutcomes.check(lab, run, inTime.getHostAddress(), 1, timeout);
                ActualOutcomes holding = ActualOutcomes.check(lab, run, early.getHostAddress(), 1, timeout);
                // A reply the kernel delivered late (see ActualOutcomes) is what this test looks for in the engine: it
                // makes the attempt inconclusive, and an engine that fires deadlines too soon fails every attempt.
                if (held.inTime() == 1 && holding.inTime() == 1 && held.deliveredLate() == 0) {
                    List<Reply> replies = run.replies(inTime.getHostAddress(), Reply.Kind.FIRST);
                    assertEquals(1, replies.size(), () -> "events: " + run.events());
                    assertTrue(replies.getFirst().rttNanos() < timeout.toNanos(), "rtt "
                            + replies.getFirst().rttNanos());
                    return;
                }
                System.out.printf("attempt %d: the lab's replies left late (%s, %s): %s%n", attempt, held, holding,
                        run.events());
                assertTrue(attempt < 3, "the lab's replies left late in " + attempt + " attempts");
            }
        }
    }

    @Test
    void accountsForEveryProbeExactlyOnce() throws Exception {
        Duration timeout = Duration.ofMillis(40);
        Behaviour late = new Behaviour.Echo(Duration.ofMillis(60));
        try (ImpairmentLab lab = ImpairmentLab.open(3)) {
            Map<String, Behaviour> behaviours = Map.of(
                    lab.target(IcmpFamily.V4, 0).getHostAddress(),
                    new Behaviour.Loss(0.3, 7, new Behaviour.Duplicate(2, Duration.ZERO)),
                    lab.target(IcmpFamily.V4, 1).getHostAddress(),
                    new Behaviour.Select(Set.of(3, 4, 10), late, new Behaviour.Loss(0.2, 9, Behaviour.echo())),
                    lab.target(IcmpFamily.V4, 2).getHostAddress(),
                    new Behaviour.BlackHole(),
                    lab.target(IcmpFamily.V6, 0).getHostAddress(),
                    new Behaviour.Select(Set.of(5, 6), new Behaviour.Tampered(Behaviour.Tamper.WRONG_COOKIE),
                            new Behaviour.Duplicate(3, Duration.ofMillis(2))),
                    lab.target(IcmpFamily.V6, 1).getHostAddress(),
                    new Behaviour.Echo(Duration.ofMillis(10)),
                    lab.target(IcmpFamily.V6, 2).getHostAddress(),
                    new Behaviour.Loss(0.5, 11, new Behaviour.Select(Set.of(2, 20), late, Behaviour.echo())));
            for (Map.Entry<String, Behaviour> entry : behaviours.entrySet()) {
                lab.behave(InetAddress.getByName(entry.getKey()), entry.getValue());
            }
            RecordedTask run = RecordedTask.run(engine, task(List.copyOf(behaviours.keySet()), 30, 5,
                    timeout.toMillis()));

            long received = 0;
            ActualOutcomes judged = new ActualOutcomes(0, 0, 0, 0);
            for (String target : behaviours.keySet()) {
                judged = judged.plus(ActualOutcomes.check(lab, run, target, 30, timeout));
                received += run.stats(target).received();
            }
            System.out.println("judged by the lab's actual replies: " + judged);
            assertTrue(judged.deliveredLate() <= 180 / 100, "replies the kernel delivered late: " + judged);
            assertEquals(180, run.totals().sent());
            assertEquals(received, run.totals().received());
            assertEquals(run.totals().sent(), run.totals().received() + run.totals().timeouts());
            assertEquals(0, run.events().stream().filter(e -> e instanceof ProbeError).count());
        }
    }

    @Test
    void accountsForEveryProbeExactlyOnceAtTenThousandProbesPerSecond() throws Exception {
        Duration timeout = Duration.ofMillis(40);
        int perFamily = 50;
        int count = 100;
        try (ImpairmentLab lab = ImpairmentLab.open(perFamily)) {
            Map<String, Behaviour> behaviours = new HashMap<>();
            for (IcmpFamily family : IcmpFamily.values()) {
                for (int i = 0; i < perFamily; i++) {
                    Behaviour behaviour = switch (i % 5) {
                        case 0 -> Behaviour.echo();
                        case 1 -> new Behaviour.Echo(Duration.ofMillis(5));
                        case 2 -> new Behaviour.Loss(0.2, i, new Behaviour.Echo(Duration.ofMillis(2)));
                        case 3 -> new Behaviour.Duplicate(2, Duration.ofMillis(1));
                        default -> new Behaviour.Select(Set.of(10, 20, 30), new Behaviour.Echo(Duration.ofMillis(60)),
                                Behaviour.echo());
                    };
                    InetAddress target = lab.target(family, i);
                    lab.behave(target, behaviour);
                    behaviours.put(target.getHostAddress(), behaviour);
                }
            }
            // 100 targets, a probe to each every 10 ms: 10,000 probes/s for a second.
            RecordedTask run = RecordedTask.run(engine, task(List.copyOf(behaviours.keySet()), count, 10,
                    timeout.toMillis()));

            long received = 0;
            ActualOutcomes judged = new ActualOutcomes(0, 0, 0, 0);
            for (String target : behaviours.keySet()) {
                assertEquals(count, lab.handled(InetAddress.getByName(target)).size(),
                        () -> "requests that reached " + target);
                // Judged by when the lab's replies really left: its responder shares two CPUs with this load and
                // the rest of the build, and a stalled host makes it answer late.
                judged = judged.plus(ActualOutcomes.check(lab, run, target, count, timeout));
                received += run.stats(target).received();
            }
            System.out.println("at 10,000 probes/s, judged by the lab's actual replies: " + judged);
            assertTrue(judged.deliveredLate() <= 2 * perFamily * count / 100, "replies the kernel delivered late: "
                    + judged);
            assertEquals(2L * perFamily * count, run.totals().sent());
            assertEquals(received, run.totals().received());
            assertEquals(run.totals().sent(), run.totals().received() + run.totals().timeouts());
            assertEquals(0, run.events().stream().filter(e -> e instanceof ProbeError).count());
            assertEquals(0, engine.stats().kernelDrops(), engine.stats().toString());
        }
    }

    /** Gives target {@code index} of both families this behaviour; returns their addresses as task targets. */
    private static List<String> both(ImpairmentLab lab, int index, Behaviour behaviour) {
        List<String> targets = new ArrayList<>();
        for (IcmpFamily family : IcmpFamily.values()) {
            InetAddress target = lab.target(family, index);
            lab.behave(target, behaviour);
            targets.add(target.getHostAddress());
        }
        return targets;
    }

    private static double mean(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).average().orElseThrow();
    }

    private static long max(List<Long> values) {
        return values.stream().mapToLong(Math::abs).max().orElseThrow();
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static PingTask task(List<String> targets, int count, long intervalMs, long timeoutMs) {
        return new PingTask("lab", targets, Duration.ofMillis(intervalMs), count, Duration.ofMillis(timeoutMs), 56);
    }

    private static List<Long> seqs(int count) {
        return LongStream.range(0, count).boxed().toList();
    }
}
