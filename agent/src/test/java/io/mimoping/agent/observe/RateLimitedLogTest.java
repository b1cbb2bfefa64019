package io.mimoping.agent.observe;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class RateLimitedLogTest {

    private static final Duration INTERVAL = Duration.ofMillis(300);
    private static final Pattern SUMMARY = Pattern.compile("refused: (\\d+) more in the last (\\d+\\.\\d) s; the last: refused #(\\d+)");

    private final Logger logger = Logger.getLogger("test.ratelimited." + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    RateLimitedLogTest() {
        logger.setUseParentHandlers(false);
        logger.addHandler(capture);
    }

    @AfterEach
    void detach() {
        logger.removeHandler(capture);
    }

    private List<String> lines(String prefix) {
        return records.stream().map(LogRecord::getMessage).filter(m -> m.startsWith(prefix)).toList();
    }

    private void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what + "; logged: " + records.stream().map(LogRecord::getMessage).toList());
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aBurstIsOneLineThenOneLinePerIntervalCountingTheRestAndNoneIsLost() throws Exception {
        RateLimitedLog log = new RateLimitedLog(logger, INTERVAL);
        long started = System.nanoTime();
        for (int i = 1; i <= 100; i++) {
            int n = i;
            log.warning("refused", () -> "refused #" + n);
        }
        log.info("other kind", () -> "other kind, at once");
        assertEquals(List.of("refused #1"), lines("refused #"), "the first of the burst at once, nothing else yet");
        assertEquals(List.of("other kind, at once"), lines("other kind"), "another kind is not held back");

        int[] counted = new int[1];
        await("the summaries to count all 100", () -> {
            counted[0] = 1;
            for (String line : lines("refused: ")) {
                Matcher summary = SUMMARY.matcher(line);
                assertTrue(summary.matches(), line);
                counted[0] += Integer.parseInt(summary.group(1));
            }
            return counted[0] >= 100;
        });
        long elapsedIntervals = (System.nanoTime() - started) / INTERVAL.toNanos();
        assertEquals(100, counted[0], "every event counted once: " + lines("refused"));
        List<String> summaries = lines("refused: ");
        assertTrue(summaries.size() <= elapsedIntervals + 1, "at most one line per interval: " + summaries);
        Matcher last = SUMMARY.matcher(summaries.getLast());
        assertTrue(last.matches());
        assertEquals("100", last.group(3), "the last line shows the last event: " + summaries.getLast());
        assertTrue(Double.parseDouble(last.group(2)) >= 0.3, "the interval it covers: " + summaries.getLast());
        for (LogRecord record : records) {
            assertEquals(record.getMessage().startsWith("other") ? Level.INFO : Level.WARNING, record.getLevel());
        }
    }

    @Test
    void afterAQuietIntervalTheNextEventIsALineAtOnce() throws Exception {
        RateLimitedLog log = new RateLimitedLog(logger, INTERVAL);
        log.info("refused", () -> "refused #1");
        log.info("refused", () -> "refused #2");
        await("the summary of #2", () -> lines("refused: ").size() == 1);
        assertTrue(lines("refused: ").getFirst().matches("refused: 1 more in the last \\d+\\.\\d s; the last: refused #2"),
                lines("refused: ").toString());
        // the kind closes after an interval without events; wait well past it
        Thread.sleep(INTERVAL.multipliedBy(5).toMillis());
        log.info("refused", () -> "refused #3");
        assertEquals(List.of("refused #1", "refused #3"), lines("refused #"));
    }

    @Test
    void eventsBelowTheLoggersLevelAreNeitherWrittenNorBuilt() {
        logger.setLevel(Level.WARNING);
        RateLimitedLog log = new RateLimitedLog(logger, INTERVAL);
        log.info("quiet", () -> fail("built a message nobody logs"));
        log.warning("loud", () -> "loud #1");
        assertEquals(List.of("loud #1"), records.stream().map(LogRecord::getMessage).toList());
    }
}
