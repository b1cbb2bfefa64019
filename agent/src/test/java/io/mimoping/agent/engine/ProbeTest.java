package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.Reply;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProbeTest {

    private static Probe probe() {
        return new Probe(null, 0, 1, 0, 0);
    }

    @Test
    void firstReplyEndsTheProbeFurtherOnesAreDuplicates() {
        Probe probe = probe();
        assertEquals(Reply.Kind.FIRST, probe.accept());
        assertEquals(Reply.Kind.DUPLICATE, probe.accept());
        assertEquals(Reply.Kind.DUPLICATE, probe.accept());
    }

    @Test
    void theDeadlineOfAnAnsweredProbeIsNoTimeout() {
        Probe probe = probe();
        assertEquals(Reply.Kind.FIRST, probe.accept());
        assertFalse(probe.expire());
        assertFalse(probe.expire());
        assertEquals(Reply.Kind.DUPLICATE, probe.accept(), "still answered: more replies are duplicates");
    }

    @Test
    void aProbeWaitingAtItsDeadlineTimesOutOnce() {
        Probe probe = probe();
        assertTrue(probe.expire());
        assertFalse(probe.expire(), "a timeout is reported once");
    }

    @Test
    void afterATimeoutTheFirstReplyIsLateAndLaterOnesAreDropped() {
        Probe probe = probe();
        assertTrue(probe.expire());
        assertEquals(Reply.Kind.LATE, probe.accept());
        assertNull(probe.accept());
        assertNull(probe.accept());
        assertFalse(probe.expire());
    }
}
