package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.Reply;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlotTableTest {

    private final SlotTable slots = new SlotTable(4);

    @Test
    void firstReplyEndsTheProbeFurtherOnesAreDuplicates() {
        int slot = slots.allocate(null, 0, 0);
        assertEquals(Reply.Kind.FIRST, slots.accept(slot));
        assertEquals(Reply.Kind.DUPLICATE, slots.accept(slot));
        assertEquals(Reply.Kind.DUPLICATE, slots.accept(slot));
    }

    @Test
    void theDeadlineOfAnAnsweredProbeIsNoTimeout() {
        int slot = slots.allocate(null, 0, 0);
        assertEquals(Reply.Kind.FIRST, slots.accept(slot));
        assertFalse(slots.expire(slot));
        assertFalse(slots.expire(slot));
        assertEquals(Reply.Kind.DUPLICATE, slots.accept(slot), "still answered: more replies are duplicates");
    }

    @Test
    void aProbeWaitingAtItsDeadlineTimesOutOnce() {
        int slot = slots.allocate(null, 0, 0);
        assertTrue(slots.expire(slot));
        assertFalse(slots.expire(slot), "a timeout is reported once");
    }

    @Test
    void afterATimeoutTheFirstReplyIsLateAndLaterOnesAreDropped() {
        int slot = slots.allocate(null, 0, 0);
        assertTrue(slots.expire(slot));
        assertEquals(Reply.Kind.LATE, slots.accept(slot));
        assertNull(slots.accept(slot));
        assertNull(slots.accept(slot));
        assertFalse(slots.expire(slot));
    }

    @Test
    void aFreedSlotIsTakenAgainUnderANewKey() {
        int slot = slots.allocate(null, 3, 7);
        long first = slots.key(slot);
        assertEquals(slot, slots.find(first));
        assertEquals(3, slots.target[slot]);
        assertEquals(7, slots.seq[slot]);
        slots.release(slot);
        assertEquals(-1, slots.find(first));
        assertThrows(IllegalStateException.class, () -> slots.release(slot), "freed twice");
        int again = slots.allocate(null, 0, 8);
        assertEquals(slot, again, "the last slot freed is the first taken");
        assertNotEquals(first, slots.key(again));
        assertEquals(-1, slots.find(first), "an old key never finds the new probe");
        assertEquals(again, slots.find(slots.key(again)));
        assertEquals(Reply.Kind.FIRST, slots.accept(again), "the new probe starts waiting");
    }

    @Test
    void keysOutsideTheTableFindNothing() {
        slots.allocate(null, 0, 0);
        assertEquals(-1, slots.find(-1L));
        assertEquals(-1, slots.find(1_000_000));
        assertEquals(-1, slots.find(Long.MIN_VALUE));
    }

    @Test
    void holdsAMillionProbesAtOnceWithDistinctKeys() {
        int n = 1_100_000;
        Set<Long> keys = new HashSet<>();
        int[] taken = new int[n];
        for (int i = 0; i < n; i++) {
            taken[i] = slots.allocate(null, i % 7, i);
            keys.add(slots.key(taken[i]));
        }
        assertEquals(n, keys.size());
        assertEquals(n, slots.inUse());
        assertEquals(n, slots.peak());
        for (int i = 0; i < n; i += 99_991) {
            assertEquals(taken[i], slots.find(slots.key(taken[i])));
            assertEquals(i, slots.seq[taken[i]], "no 16-bit ceiling on sequence numbers");
        }
        for (int slot : taken) {
            slots.release(slot);
        }
        assertEquals(0, slots.inUse());
        assertEquals(n, slots.peak());
        int capacity = slots.capacity();
        for (int i = 0; i < n; i++) {
            slots.allocate(null, 0, i);
        }
        assertEquals(capacity, slots.capacity(), "freed slots are reused: no growth in the steady state");
    }
}
