package io.mimoping.agent.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SendGridTest {

    private static final long MS = 1_000_000;

    /** Every (due, target, seq) a grid yields, in order. */
    private static List<long[]> walk(SendGrid grid) {
        List<long[]> probes = new ArrayList<>();
        while (grid.hasNext()) {
            probes.add(new long[] {grid.nextDue(), grid.nextTarget(), grid.nextSeq()});
            grid.advance();
        }
        return probes;
    }

    @Test
    void visitsEveryTargetOncePerRoundInTimeOrder() {
        // 4 targets, 100 ms apart per target, 3 rounds: the stagger is 25 ms, capped at 1 ms.
        List<long[]> probes = walk(new SendGrid(1000, 100 * MS, 3, 4, new int[] {0, 1, 2, 3}));
        assertEquals(12, probes.size());
        for (int i = 0; i < probes.size(); i++) {
            long[] p = probes.get(i);
            assertEquals(i % 4, p[1], "target");
            assertEquals(i / 4, p[2], "seq");
            assertEquals(1000 + p[2] * 100 * MS + p[1] * MS, p[0], "due");
            if (i > 0) {
                assertTrue(p[0] >= probes.get(i - 1)[0], "grid order is time order");
            }
        }
    }

    /**
     * A walk that falls a whole interval behind (the host stalled 3 s) moves the rest of the grid later instead of
     * sending what it missed at once; lateness within an interval plus the tolerance leaves the grid alone.
     */
    @Test
    void aStallMovesTheRestOfTheGridInsteadOfBursting() {
        long interval = 200 * MS;
        SendGrid grid = new SendGrid(0, interval, 20, 2, new int[] {0, 1});
        for (int i = 0; i < 5; i++) { // rounds 0-1 and round 2's first target sent on time
            grid.advance();
        }
        long due = grid.nextDue(); // round 2, target 1
        assertEquals(2 * interval + grid.nextTarget() * MS, due);

        assertEquals(0, grid.catchUp(due + interval + MS, 2 * MS), "late by an interval and 1 ms: within tolerance");
        assertEquals(due, grid.nextDue());

        long now = due + 3_000 * MS + 7 * MS; // then a 3 s stall
        long moved = grid.catchUp(now, 2 * MS);
        assertEquals(15 * interval, moved, "moved by the whole intervals missed");
        assertTrue(grid.nextDue() <= now && now - grid.nextDue() < interval, "the next probe is now due, "
                + (now - grid.nextDue()) + " ns late");
        assertEquals(2, grid.nextSeq(), "no probe skipped");
        List<long[]> rest = walk(grid);
        assertEquals(2 * 20 - 5, rest.size());
        for (int i = 2; i < rest.size(); i++) {
            assertEquals(interval, rest.get(i)[0] - rest.get(i - 2)[0], "each target's probes an interval apart");
        }
        assertEquals(0, grid.catchUp(Long.MAX_VALUE / 2, 0), "nothing left to move");
        assertEquals(0, new SendGrid(0, 0, 5, 1, new int[] {0}).catchUp(now, 0), "a flood has no interval to keep");
    }

    @Test
    void staggerIsAtMostOneMillisecondAndFitsInOneInterval() {
        assertEquals(MS, SendGrid.staggerNanos(1000 * MS, 10));
        assertEquals(100, SendGrid.staggerNanos(MS, 10_000));
        assertEquals(0, SendGrid.staggerNanos(0, 10), "interval 0: everything due at once");
        for (int targets : new int[] {1, 2, 3, 7, 1000, 100_000}) {
            for (long interval : new long[] {0, 1, MS, 7 * MS + 3, 1000 * MS}) {
                assertTrue(targets * SendGrid.staggerNanos(interval, targets) <= interval);
            }
        }
    }

    @Test
    void aShardWalksOnlyItsTargetsAtTheirPlacesInTheTaskGrid() {
        // Task of 6 targets, interval 60 ms: stagger 1 ms (capped). This shard has targets 1, 3 and 5.
        List<long[]> probes = walk(new SendGrid(0, 60 * MS, 2, 6, new int[] {1, 3, 5}));
        // (and with a 6 ms interval the stagger would be 1 ms too: 6 targets fit in it exactly)
        assertEquals(MS, SendGrid.staggerNanos(6 * MS, 6));
        assertEquals(6, probes.size());
        long[] dues = probes.stream().mapToLong(p -> p[0]).toArray();
        assertEquals(List.of(MS, 3 * MS, 5 * MS, 61 * MS, 63 * MS, 65 * MS),
                java.util.Arrays.stream(dues).boxed().toList());
        assertEquals(List.of(0L, 1L, 2L, 0L, 1L, 2L), probes.stream().map(p -> p[1]).toList());
    }

    @Test
    void seqsGoBeyondSixteenBits() {
        SendGrid grid = new SendGrid(0, 0, 70_000, 1, new int[] {0});
        long last = -1;
        while (grid.hasNext()) {
            last = grid.nextSeq();
            grid.advance();
        }
        assertEquals(69_999, last);
    }

    @Test
    void stopEndsTheGridAndAnEmptyGridHasNothing() {
        SendGrid grid = new SendGrid(0, MS, 5, 2, new int[] {0, 1});
        grid.advance();
        grid.stop();
        assertFalse(grid.hasNext());
        assertFalse(new SendGrid(0, MS, 5, 0, new int[0]).hasNext());
    }
}
