package io.mimoping.hub.stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the hub lets tasks keep is bounded by its heap: a busy hub refuses tasks rather than die of OutOfMemoryError. */
class StreamLimitsTest {

    private static final long MIB = 1L << 20;

    @Test
    void retainedEventsFitInHalfTheHeap() {
        StreamLimits defaults = StreamLimits.DEFAULTS; // 16 MiB a running task, 1,000 of them; 256 MiB finished
        StreamLimits sixGiB = defaults.fittedTo(6144 * MIB);
        assertEquals(256 * MIB, sixGiB.retainTotalBytes(), "a quarter of the heap is more than the finished budget");
        assertEquals((3072 - 256) / 16, sixGiB.maxTasks(), "the rest of half the heap, 16 MiB a running task");

        StreamLimits small = defaults.fittedTo(64 * MIB);
        assertEquals(16 * MIB, small.retainTotalBytes(), "a quarter of a small heap for the finished tasks");
        assertEquals(1, small.maxTasks(), "still one task");

        assertEquals(defaults, defaults.fittedTo(64L << 30), "a heap large enough changes nothing");
        StreamLimits lean = defaults.withRetention(defaults.retainEvents(), MIB, defaults.keepFinished());
        assertEquals(1000, lean.fittedTo(4096 * MIB).maxTasks(), "1 MiB a task: 1,000 fit in the 1,792 MiB left");
        assertEquals(768, lean.fittedTo(2048 * MIB).maxTasks(), "and 768 in the 768 MiB left of a 2 GiB heap");

        StreamLimits fewTasks = defaults.withBudget(10, 4000 * MIB);
        StreamLimits fitted = fewTasks.fittedTo(6000 * MIB);
        assertEquals(10, fitted.maxTasks(), "10 running tasks keep at most 160 MiB: they fit");
        assertEquals((3000 - 160) * MIB, fitted.retainTotalBytes(), "the finished ones get what they leave");
    }
}
