package io.mimoping.bridge.probe;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TargetStatsTest {

    private static final long MS = 1_000_000;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** Stats of {@code sent} probes whose answered ones took these RTTs (in ms), TTL 64 each. */
    private static TargetStats stats(long sent, long... rttMillis) {
        List<Long> rtts = LongStream.of(rttMillis).map(ms -> ms * MS).boxed().toList();
        return new TargetStats("t", LOOPBACK, sent, rtts.size(), 0, rtts, Collections.nCopies(rtts.size(), 64));
    }

    @Test
    void lossIsThePercentOfSentProbesNotAnswered() {
        assertEquals(20.0, stats(10, 1, 1, 1, 1, 1, 1, 1, 1).lossPercent(), 1e-12);
        assertEquals(0.0, stats(3, 1, 2, 3).lossPercent(), 1e-12);
        assertEquals(100.0, stats(4).lossPercent(), 1e-12);
        assertEquals(100.0 / 3, stats(3, 5, 5).lossPercent(), 1e-12);
        assertEquals(0.0, stats(0).lossPercent(), 1e-12, "nothing sent, nothing lost");
    }

    @Test
    void duplicatesDoNotCountAsReceived() {
        TargetStats stats = new TargetStats("t", LOOPBACK, 2, 1, 5, List.of(MS), List.of(64));
        assertEquals(50.0, stats.lossPercent(), 1e-12);
        assertEquals(5, stats.duplicates());
    }

    @Test
    void minMeanMaxStdDevAndJitterOfAHandComputedExample() {
        // RTTs 2 4 4 4 5 5 7 9 ms, in probe order.
        // mean = 40 / 8 = 5
        // squared deviations 9 1 1 1 0 0 4 16 = 32, population variance 32 / 8 = 4, stddev 2
        // consecutive differences |2| |0| |0| |1| |0| |2| |2| = 7 over 7 pairs: jitter 1
        TargetStats stats = stats(8, 2, 4, 4, 4, 5, 5, 7, 9);
        assertEquals(2 * MS, stats.minNanos());
        assertEquals(9 * MS, stats.maxNanos());
        assertEquals(5.0 * MS, stats.meanNanos(), 1e-6);
        assertEquals(2.0 * MS, stats.stdDevNanos(), 1e-6);
        assertEquals(1.0 * MS, stats.jitterNanos(), 1e-6);
    }

    @Test
    void jitterFollowsProbeOrderNotSortedOrder() {
        // Same values as sorted 1 2 3 (jitter 1), but alternating: |3-1| + |2-3| = 3 over 2.
        TargetStats stats = stats(3, 1, 3, 2);
        assertEquals(1.5 * MS, stats.jitterNanos(), 1e-6);
        assertEquals(1 * MS, stats.minNanos());
        assertEquals(3 * MS, stats.maxNanos());
    }

    @Test
    void stdDevIsPopulationNotSample() {
        // 1 and 3: mean 2, population stddev 1 (the sample stddev would be sqrt 2).
        assertEquals(1.0 * MS, stats(2, 1, 3).stdDevNanos(), 1e-6);
    }

    @Test
    void oneReplyHasNoSpreadAndNoJitter() {
        TargetStats stats = stats(1, 7);
        assertEquals(7 * MS, stats.minNanos());
        assertEquals(7 * MS, stats.maxNanos());
        assertEquals(7.0 * MS, stats.meanNanos(), 1e-6);
        assertEquals(0.0, stats.stdDevNanos());
        assertEquals(0.0, stats.jitterNanos());
        assertEquals(7 * MS, stats.percentileNanos(50));
        assertEquals(7 * MS, stats.percentileNanos(90));
        assertEquals(7 * MS, stats.percentileNanos(99));
    }

    @Test
    void noReplyGivesZeroesEverywhere() {
        TargetStats stats = stats(3);
        assertEquals(0, stats.minNanos());
        assertEquals(0, stats.maxNanos());
        assertEquals(0.0, stats.meanNanos());
        assertEquals(0.0, stats.stdDevNanos());
        assertEquals(0.0, stats.jitterNanos());
        assertEquals(0, stats.percentileNanos(50));
        assertEquals(0, stats.percentileNanos(90));
        assertEquals(0, stats.percentileNanos(99));
    }

    @Test
    void nearestRankPercentilesOfTheTextbookExamples() {
        // The worked examples of the nearest-rank method (e.g. Wikipedia, "Percentile").
        TargetStats five = stats(5, 50, 15, 40, 20, 35); // sorted 15 20 35 40 50, given unsorted
        assertEquals(15 * MS, five.percentileNanos(5));
        assertEquals(20 * MS, five.percentileNanos(30));
        assertEquals(20 * MS, five.percentileNanos(40));
        assertEquals(35 * MS, five.percentileNanos(50));
        assertEquals(50 * MS, five.percentileNanos(100));

        TargetStats ten = stats(10, 20, 3, 16, 6, 15, 7, 13, 8, 10, 8);
        assertEquals(7 * MS, ten.percentileNanos(25));
        assertEquals(8 * MS, ten.percentileNanos(50));
        assertEquals(15 * MS, ten.percentileNanos(75));
        assertEquals(16 * MS, ten.percentileNanos(90)); // rank ceil(9.0) = 9
        assertEquals(20 * MS, ten.percentileNanos(99)); // rank ceil(9.9) = 10
        assertEquals(20 * MS, ten.percentileNanos(100));

        TargetStats eleven = stats(11, 3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20);
        assertEquals(7 * MS, eleven.percentileNanos(25));
        assertEquals(9 * MS, eleven.percentileNanos(50));
        assertEquals(15 * MS, eleven.percentileNanos(75));
        assertEquals(16 * MS, eleven.percentileNanos(90)); // rank ceil(9.9) = 10
        assertEquals(20 * MS, eleven.percentileNanos(99)); // rank ceil(10.89) = 11
    }

    @Test
    void percentileIsAlwaysAMeasuredValue() {
        TargetStats two = stats(2, 10, 20);
        assertEquals(10 * MS, two.percentileNanos(50)); // rank 1, not the interpolated 15
        assertEquals(20 * MS, two.percentileNanos(51)); // rank 2
        assertEquals(10 * MS, two.percentileNanos(0.001)); // smallest percent: rank 1
    }

    @Test
    void everyIntegerPercentileOfAHundredValuesIsItsRank() {
        // RTTs 1..100 ms in shuffled order: the p-th percentile by nearest rank is exactly p ms.
        List<Long> values = new ArrayList<>(LongStream.rangeClosed(1, 100).boxed().toList());
        Collections.shuffle(values, new Random(42));
        TargetStats stats = stats(100, values.stream().mapToLong(Long::longValue).toArray());
        for (int p = 1; p <= 100; p++) {
            assertEquals(p * MS, stats.percentileNanos(p), "p" + p);
        }
    }

    @Test
    void nearestRankMatchesItsDefinitionForManySizes() {
        // Nearest rank: the smallest value such that at least p% of the values are <= it.
        Random random = new Random(7);
        for (int n = 1; n <= 300; n++) {
            long[] rtts = random.longs(n, 1, 1_000).toArray();
            TargetStats stats = stats(n, rtts);
            for (int p : new int[] {50, 90, 99}) {
                assertEquals(byDefinition(rtts, p) * MS, stats.percentileNanos(p), "n=" + n + " p" + p);
            }
        }
    }

    private static long byDefinition(long[] values, int percent) {
        for (long candidate : LongStream.of(values).sorted().toArray()) {
            long atMost = LongStream.of(values).filter(v -> v <= candidate).count();
            if (atMost * 100 >= (long) percent * values.length) {
                return candidate;
            }
        }
        throw new AssertionError("no value reaches p" + percent);
    }

    @Test
    void percentOutsideZeroToHundredIsRejected() {
        TargetStats stats = stats(2, 1, 2);
        assertThrows(IllegalArgumentException.class, () -> stats.percentileNanos(0));
        assertThrows(IllegalArgumentException.class, () -> stats.percentileNanos(-5));
        assertThrows(IllegalArgumentException.class, () -> stats.percentileNanos(100.5));
        assertThrows(IllegalArgumentException.class, () -> stats.percentileNanos(Double.NaN));
    }

    @Test
    void constructorRejectsRttsAndTtlsThatDoNotMatchTheReplies() {
        assertThrows(IllegalArgumentException.class,
                () -> new TargetStats("t", LOOPBACK, 3, 2, 0, List.of(MS), List.of(64, 64)));
        assertThrows(IllegalArgumentException.class,
                () -> new TargetStats("t", LOOPBACK, 3, 2, 0, List.of(MS, MS), List.of(64)));
        assertThrows(IllegalArgumentException.class,
                () -> new TargetStats("t", LOOPBACK, 3, 1, 0, List.of(MS, MS), List.of(64, 64)));
    }

    @Test
    void listsAreCopiedSoLaterChangesDoNotLeakIn() {
        List<Long> rtts = new ArrayList<>(List.of(MS));
        List<Integer> ttls = new ArrayList<>(List.of(64));
        TargetStats stats = new TargetStats("t", LOOPBACK, 1, 1, 0, rtts, ttls);
        rtts.set(0, 9 * MS);
        ttls.add(1);
        assertEquals(List.of(MS), stats.rttNanos());
        assertEquals(List.of(64), stats.ttls());
    }
}
