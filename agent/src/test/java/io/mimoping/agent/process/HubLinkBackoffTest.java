package io.mimoping.agent.process;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconnection backoff and the registration's checks; the link itself is tested against a hub in hub/. */
class HubLinkBackoffTest {

    private final HubLink.Backoff backoff = HubLink.Backoff.DEFAULT;

    @Test
    void theCeilingDoublesFromHalfASecondUpToThirtySeconds() {
        assertEquals(Duration.ofMillis(500), backoff.ceiling(0));
        assertEquals(Duration.ofSeconds(1), backoff.ceiling(1));
        assertEquals(Duration.ofSeconds(2), backoff.ceiling(2));
        assertEquals(Duration.ofSeconds(16), backoff.ceiling(5));
        assertEquals(Duration.ofSeconds(30), backoff.ceiling(6));
        assertEquals(Duration.ofSeconds(30), backoff.ceiling(1_000));
        assertEquals(Duration.ofSeconds(30), backoff.ceiling(Integer.MAX_VALUE));
    }

    @Test
    void delaysAreFullJitterSpreadOverTheWholeWindow() {
        SplittableRandom random = new SplittableRandom(42);
        for (int attempt : new int[] {0, 3, 10}) {
            long ceiling = backoff.ceiling(attempt).toNanos();
            long[] delays = LongStream.range(0, 10_000).map(i -> backoff.delay(attempt, random).toNanos()).toArray();
            assertTrue(LongStream.of(delays).allMatch(d -> d >= 0 && d <= ceiling), "a delay outside [0, ceiling]");
            double mean = LongStream.of(delays).average().orElseThrow();
            assertEquals(0.5, mean / ceiling, 0.02, "uniform over [0, ceiling]: mean near half the ceiling");
            assertTrue(LongStream.of(delays).min().orElseThrow() < ceiling / 20, "never close to 0");
            assertTrue(LongStream.of(delays).max().orElseThrow() > ceiling * 19 / 20, "never close to the ceiling");
        }
    }

    @Test
    void twoAgentsDoNotWaitAlike() {
        SplittableRandom a = new SplittableRandom(1);
        SplittableRandom b = new SplittableRandom(2);
        int same = 0;
        for (int i = 0; i < 1_000; i++) {
            if (Math.abs(backoff.delay(0, a).toMillis() - backoff.delay(0, b).toMillis()) < 5) {
                same++;
            }
        }
        assertTrue(same < 50, same + " of 1000 delays within 5 ms of each other");
        assertNotEquals(backoff.delay(4, new SplittableRandom(7)), backoff.delay(4, new SplittableRandom(8)));
    }

    @Test
    void aBackoffNeedsAPositiveStartBelowItsCap() {
        assertThrows(IllegalArgumentException.class, () -> new HubLink.Backoff(Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new HubLink.Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    }

    @Test
    void registrationsCheckTheNameAndHideTheToken() {
        for (String name : new String[] {"hub", "-x", "a b", "", "x".repeat(65), "ü"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new HubLink.Registration(name, "1", Map.of(), null, null), name);
            assertTrue(e.getMessage().contains("invalid agent name"), e.getMessage());
        }
        HubLink.Registration ok = new HubLink.Registration("agent-1.lab_2", "1", null, null, "secret");
        assertEquals(Map.of(), ok.labels());
        assertFalse(ok.toString().contains("secret"), ok.toString());
    }

    @Test
    void theVersionComesFromTheBuild() {
        assertTrue(AgentVersion.current().matches("\\d+\\.\\d+\\.\\d+.*"), AgentVersion.current());
    }
}
