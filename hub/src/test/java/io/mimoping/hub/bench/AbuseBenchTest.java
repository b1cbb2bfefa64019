package io.mimoping.hub.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench abuse} at a tiny size against a real hub process: every attack runs, ends within its deadline and
 * prints its row. Whether the hub meets the goals is what the benchmark reports, not what this test checks.
 */
class AbuseBenchTest {

    @Test
    void everyAttackRunsToItsEndAndPrintsItsRow() throws Exception {
        AbuseBench.Options options = AbuseBench.Options.parse("--nofile", "1024", "--fd-connections", "100",
                "--idle-connections", "20", "--hold", "1", "--hangups", "20", "--streams", "50");
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        long start = System.nanoTime();
        List<AbuseBench.Outcome> outcomes = AbuseBench.run(options, new PrintStream(table, true, StandardCharsets.UTF_8));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        String printed = table.toString(StandardCharsets.UTF_8);

        assertEquals(AbuseBench.Options.ALL, outcomes.stream().map(AbuseBench.Outcome::attack).toList(), printed);
        assertTrue(seconds < 240, "took " + seconds + " s");
        for (AbuseBench.Outcome outcome : outcomes) {
            assertTrue(printed.contains(outcome.line()), printed);
            assertTrue(outcome.listener(), "a tiny attack leaves the listener serving: " + outcome.line());
            assertTrue(outcome.rssKiB() > 10_000 && outcome.fds() > 10, outcome.line());
        }
        assertTrue(detail(outcomes, "fd").startsWith("100 of 100 connected"), printed);
        assertTrue(detail(outcomes, "idle").startsWith("20 of 20 connected"), printed);
        assertTrue(detail(outcomes, "streams").startsWith("50 clients: 50 streamed to the end, 0 failed"), printed);
        assertTrue(detail(outcomes, "grpc").startsWith("2100000-byte request: "), printed);
        assertTrue(detail(outcomes, "hangups").startsWith("20 of 20 sent half a POST and hung up"), printed);
        assertTrue(detail(outcomes, "agent-kill").contains("agent_lost"), printed);
        assertTrue(printed.matches("(?s).*canary: \\d+ events.*"), printed);
    }

    @Test
    void anUnknownAttackIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AbuseBench.Options.parse("--attacks", "fd,flood"));
        assertTrue(e.getMessage().contains("'flood'"), e.getMessage());
    }

    private static String detail(List<AbuseBench.Outcome> outcomes, String attack) {
        return outcomes.stream().filter(o -> o.attack().equals(attack)).findFirst().orElseThrow().detail();
    }
}
