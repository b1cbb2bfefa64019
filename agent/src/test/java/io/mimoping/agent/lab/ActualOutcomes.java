package io.mimoping.agent.lab;

import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.Timeout;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Judges what the engine reported for each probe to one lab target against what the lab actually did (when each
 * of its replies left, {@link HandledRequest.Answer#departure}), not against what its behaviour planned: a host
 * stall makes the lab's replies leave late, and then a timeout is the right report.
 *
 * @param inTime    probes whose first correct reply actually left clearly before the timeout
 * @param labLate   probes the lab planned to answer in time but whose reply actually left too late
 * @param deliveredLate probes timed out though their reply left in time and the engine's receive stamp says it
 *                  arrived in time: the kernel stamped it on arrival (net.core.netdev_tstamp_prequeue) but, its
 *                  softirq work deferred to a starved ksoftirqd, put it in the engine's socket after the deadline.
 *                  The engine then reports it late, with that RTT. An engine that fired deadlines before reading
 *                  its sockets would show the same, so callers bound these
 * @param ambiguous outcomes accepted either way: a first correct reply that left within {@link #GUARD} of the
 *                  timeout, or of the end of the late window (twice the timeout, or the target's end)
 */
record ActualOutcomes(int inTime, int labLate, int deliveredLate, int ambiguous) {

    /**
     * Replies that left the lab this close to a boundary may fall on either side of it: the engine counts its
     * deadline on the monotonic clock from its send, and the reply still has the path back to travel.
     */
    static final Duration GUARD = Duration.ofMillis(3);
    /** Longest the path back from the lab to the engine's receive stamp may take. */
    private static final Duration PATH_BACK = Duration.ofMillis(1);

    /**
     * Asserts, for each of the target's {@code count} probes: exactly one outcome (a first reply or a timeout); a
     * timeout if and only if no correct reply left the lab within {@code timeout} of the probe's send (its kernel
     * send stamp; the lab's departure stamps are on the same clock); no reply whose RTT is shorter than the delay
     * the lab actually applied; after a timeout, one late reply if and only if a correct reply left within twice
     * {@code timeout}; no more duplicates than the lab sent copies; and statistics that add up.
     */
    static ActualOutcomes check(ImpairmentLab lab, RecordedTask run, String target, int count, Duration timeout)
            throws Exception {
        Map<Integer, HandledRequest> handled = new HashMap<>();
        for (HandledRequest request : lab.handled(InetAddress.getByName(target))) {
            handled.put(request.seq(), request);
        }
        // The target ends with its last outcome: a late reply that comes after that goes unreported.
        Instant end = run.of(target).stream().map(e -> switch (e) {
            case Reply r when r.kind() == Reply.Kind.FIRST -> r.sentAt().plusNanos(r.rttNanos());
            case Timeout t -> t.sentAt().plus(timeout);
            default -> Instant.MIN;
        }).max(Comparator.naturalOrder()).orElseThrow();
        int inTime = 0;
        int labLate = 0;
        int deliveredLate = 0;
        int ambiguous = 0;
        for (long seq = 0; seq < count; seq++) {
            List<ProbeEvent> events = run.of(target, seq);
            String which = "seq " + seq + " of " + target + ": " + events + ", lab: " + handled.get((int) seq);
            List<ProbeEvent> outcomes = events.stream()
                    .filter(e -> e instanceof Timeout || e instanceof Reply r && r.kind() == Reply.Kind.FIRST).toList();
            assertEquals(1, outcomes.size(), "outcomes of " + which);
            ProbeEvent outcome = outcomes.getFirst();
            Instant sent = outcome instanceof Timeout t ? t.sentAt() : ((Reply) outcome).sentAt();
            HandledRequest request = handled.get((int) seq);
            List<HandledRequest.Answer> correct = request == null ? List.of() : request.answers().stream()
                    .filter(a -> a.planned().tamper() == Behaviour.Tamper.NONE).toList();
            // From the probe's send to its first correct reply's actual departure: the send-to-arrival time plus
            // the delay the lab actually applied.
            Optional<Duration> firstLeft = correct.stream().flatMap(a -> a.departure().stream())
                    .map(left -> Duration.between(sent, left)).min(Comparator.naturalOrder());
            long lates = count(events, Reply.Kind.LATE);
            long duplicates = count(events, Reply.Kind.DUPLICATE);

            Side onTime = side(firstLeft, timeout);
            if (onTime == Side.BEFORE) {
                inTime++;
            }
            if (onTime == Side.EITHER) {
                ambiguous++;
            } else if (onTime == Side.BEFORE && outcome instanceof Timeout && stampedInTime(events, firstLeft.get(),
                    timeout)) {
                deliveredLate++;
            } else {
                assertEquals(onTime == Side.BEFORE ? Reply.class : Timeout.class, outcome.getClass(),
                        "the lab's first correct reply left " + firstLeft.map(Duration::toString).orElse("never")
                                + " after the send, timeout " + timeout + ": " + which);
            }
            if (onTime == Side.AFTER && correct.stream().anyMatch(a -> a.planned().delay().compareTo(timeout) < 0)) {
                labLate++;
            }
            if (outcome instanceof Reply reply) {
                Duration applied = correct.stream().flatMap(a -> request.applied(a).stream())
                        .min(Comparator.naturalOrder()).orElseThrow();
                assertTrue(reply.rttNanos() >= applied.toNanos(), "rtt " + reply.rttNanos()
                        + " ns below the delay the lab applied, " + applied + ": " + which);
                assertEquals(0, lates, "late replies to a probe answered in time: " + which);
                assertTrue(duplicates <= correct.size() - 1, "more duplicates than copies sent: " + which);
            } else {
                // A late reply counts until the probe is forgotten, twice its timeout after its send, or the target
                // ends; the engine may end it later than its last outcome's time when the host stalls it.
                Duration untilEnd = Duration.between(sent, end);
                boolean endFirst = untilEnd.compareTo(timeout.multipliedBy(2)) < 0;
                Side late = side(firstLeft, endFirst ? untilEnd : timeout.multipliedBy(2));
                if (firstLeft.isPresent() && (late == Side.EITHER || late == Side.AFTER && endFirst)) {
                    ambiguous++;
                    assertTrue(lates <= 1, "more than one late reply: " + which);
                } else {
                    assertEquals(late == Side.BEFORE ? 1 : 0, lates, "late replies: " + which);
                }
                assertEquals(0, duplicates, "duplicates of a probe that timed out: " + which);
            }
        }
        List<ProbeEvent> all = run.of(target);
        assertTrue(all.getLast() instanceof TargetStats, target + " reported after its stats");
        TargetStats stats = run.stats(target);
        long received = run.replies(target, Reply.Kind.FIRST).size();
        assertEquals(count, stats.sent(), target);
        assertEquals(received, stats.received(), target);
        assertEquals(received, stats.rttNanos().size(), target);
        assertEquals(run.replies(target, Reply.Kind.DUPLICATE).size(), stats.duplicates(), target);
        assertEquals(100.0 * (count - received) / count, stats.lossPercent(), 1e-9, target);
        return new ActualOutcomes(inTime, labLate, deliveredLate, ambiguous);
    }

    /** Which side of a boundary a reply that left {@code left} after its probe's send falls on. */
    private enum Side { BEFORE, EITHER, AFTER }

    private static Side side(Optional<Duration> left, Duration boundary) {
        if (left.isEmpty() || left.get().compareTo(boundary.plus(GUARD)) > 0) {
            return Side.AFTER;
        }
        return left.get().compareTo(boundary.minus(GUARD)) < 0 ? Side.BEFORE : Side.EITHER;
    }

    /**
     * Whether the probe's one late reply has an RTT below the timeout that matches when the lab's reply left: the
     * kernel received it in time.
     */
    private static boolean stampedInTime(List<ProbeEvent> events, Duration left, Duration timeout) {
        List<Reply> lates = events.stream().filter(e -> e instanceof Reply r && r.kind() == Reply.Kind.LATE)
                .map(Reply.class::cast).toList();
        return lates.size() == 1 && lates.getFirst().rttNanos() < timeout.toNanos()
                && Math.abs(lates.getFirst().rttNanos() - left.toNanos()) < PATH_BACK.toNanos();
    }

    private static long count(List<ProbeEvent> events, Reply.Kind kind) {
        return events.stream().filter(e -> e instanceof Reply r && r.kind() == kind).count();
    }

    /** Adds another target's figures. */
    ActualOutcomes plus(ActualOutcomes other) {
        return new ActualOutcomes(inTime + other.inTime, labLate + other.labLate, deliveredLate + other.deliveredLate,
                ambiguous + other.ambiguous);
    }
}
