package io.mimoping.hub.stream;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The retained events of one task: bounded by count and by bytes, read from any cursor, with gaps. */
class EventLogTest {

    private static byte[] event(int n, int size) {
        byte[] bytes = ("e" + n + "_".repeat(size)).getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(bytes, size);
    }

    private static List<String> texts(EventLog.Batch batch) {
        return batch.events().stream().map(b -> new String(b, StandardCharsets.UTF_8).replace("_", "")).toList();
    }

    @Test
    void keepsTheNewestEventsWithinTheCount() throws Exception {
        EventLog log = new EventLog(100, 1 << 20);
        for (int i = 0; i < 250; i++) {
            log.append(event(i, 10));
        }
        assertEquals(150, log.first());
        assertEquals(250, log.next());
        EventLog.Batch batch = log.read(0, Duration.ZERO);
        assertEquals(new EventLog.Gap(0, 149), batch.gap());
        assertEquals(150, batch.start());
        assertEquals(100, batch.events().size());
        assertEquals("e150", texts(batch).getFirst());
        assertEquals(250, batch.next());
        EventLog.Batch later = log.read(200, Duration.ZERO);
        assertNull(later.gap(), "nothing lost after cursor 200");
        assertEquals("e200", texts(later).getFirst());
    }

    @Test
    void keepsNoMoreThanACountSmallerThanItsFirstAllocation() throws Exception {
        EventLog log = new EventLog(10, 1 << 20);
        for (int i = 0; i < 104; i++) {
            log.append(event(i, 10));
        }
        assertEquals(94, log.first(), "the newest 10 of 104");
        assertEquals(10, log.read(0, Duration.ZERO).events().size());
    }

    @Test
    void keepsTheNewestEventsWithinTheBytes() throws Exception {
        EventLog log = new EventLog(1_000_000, 1000);
        for (int i = 0; i < 50; i++) {
            log.append(event(i, 100));
        }
        assertEquals(40, log.first(), "1000 bytes hold 10 events of 100");
        assertEquals(new EventLog.Gap(5, 39), log.read(5, Duration.ZERO).gap());
        log.append(event(50, 5000));
        assertEquals(50, log.first(), "an event larger than the budget is kept alone");
    }

    @Test
    void aReaderWaitsForTheNextEventAndSeesTheEnd() throws Exception {
        EventLog log = new EventLog(10, 1000);
        log.append(event(0, 10));
        CompletableFuture<EventLog.Batch> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return log.read(1, Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(100);
        assertFalse(waiting.isDone(), "nothing after cursor 0 yet");
        log.append(event(1, 10));
        EventLog.Batch batch = waiting.get(5, TimeUnit.SECONDS);
        assertEquals(List.of("e1"), texts(batch));
        assertFalse(batch.ended());
        log.end();
        long started = System.nanoTime();
        EventLog.Batch last = log.read(2, Duration.ofSeconds(10));
        assertTrue(last.ended(), "an ended log answers at once");
        assertTrue(last.events().isEmpty());
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
        EventLog.Batch all = log.read(0, Duration.ZERO);
        assertEquals(List.of("e0", "e1"), texts(all));
        assertTrue(all.ended(), "the batch holds the last events");
        assertThrows(IllegalArgumentException.class, () -> log.read(3, Duration.ZERO), "no event 3 will ever come");
    }

    @Test
    void aBatchIsBoundedInBytes() throws Exception {
        EventLog log = new EventLog(10_000, 100L << 20);
        for (int i = 0; i < 100; i++) {
            log.append(event(i, 10_000));
        }
        EventLog.Batch batch = log.read(0, Duration.ZERO);
        assertEquals(EventLog.BATCH_BYTES / 10_000, batch.events().size());
        assertFalse(batch.ended());
    }
}
