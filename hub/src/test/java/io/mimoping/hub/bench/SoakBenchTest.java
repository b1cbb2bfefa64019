package io.mimoping.hub.bench;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench soak} at a tiny size, with real processes and the real broker, so that it cannot rot. */
class SoakBenchTest {

    @Test
    void aShortSoakAccountsForEveryProbeAndSamplesEachProcess() throws Exception {
        SoakBench.Options options = SoakBench.Options.parse("--duration", "8s", "--warm-up", "3s", "--targets", "5",
                "--sample", "1", "--clients", "4");
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        SoakBench.Report report = SoakBench.run(options, new PrintStream(table, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        String printed = table.toString(StandardCharsets.UTF_8);

        assertEquals(3 * 5 * 8, report.expected(), "2 agents and the hub, 5 targets, 8 probes each");
        assertEquals(report.expected(), report.outcomes(), printed);
        assertEquals("sent=120 received=120 timeouts=0 errors=0", report.end(), printed);
        assertEquals(List.of("hub", "agent-1", "agent-2"), report.growth().stream().map(SoakBench.Growth::process).toList());
        for (SoakBench.Growth g : report.growth()) {
            assertTrue(g.rssWarmKiB() > 10_000 && g.rssEndKiB() > 10_000 && g.fdsWarm() > 10 && g.fdsEnd() > 10, g.toString());
        }
        assertTrue(report.clientsJoined().values().stream().mapToLong(Long::longValue).sum() >= 4, printed);
        assertEquals(0, report.clientFailures(), printed);
        assertTrue(printed.contains("results: expected 120, received 120 (pkt_recv + pkt_timeout), lost 0  ok"), printed);
    }

    @Test
    void durationsTakeSecondsMinutesAndHours() {
        assertEquals(Duration.ofSeconds(90), SoakBench.Options.duration("90s"));
        assertEquals(Duration.ofSeconds(45), SoakBench.Options.duration("45"));
        assertEquals(Duration.ofMinutes(30), SoakBench.Options.duration("30m"));
        assertEquals(Duration.ofHours(1), SoakBench.Options.duration("1h"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> SoakBench.Options.parse("--duration", "2d"));
        assertTrue(bad.getMessage().contains("'2d'"), bad.getMessage());
        assertEquals(Duration.ofMinutes(5), SoakBench.Options.parse("--duration", "1h").warmUp(), "a fifth, at most 5 minutes");
    }

    @Test
    void targetsAreDistinctLoopbackAddressesSpreadOverTheSlashEight() {
        List<String> targets = SoakBench.targets(1000);
        assertEquals(1000, targets.stream().distinct().count());
        assertTrue(targets.stream().allMatch(t -> t.matches("127\\.\\d+\\.\\d+\\.\\d+")), targets.toString());
        assertEquals(250, targets.stream().map(t -> t.split("\\.")[1]).distinct().count());
    }
}
