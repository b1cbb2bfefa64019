package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.TaskTotals;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hub that 2,000 stream clients reach at once has every carrier of its virtual threads busy for seconds. A task
 * of addresses must start all the same: it needs no lookup, so nothing of it may wait for a virtual thread.
 */
class BusyCarriersTest {

    /** Longer than the task may take: had its start waited for a carrier, it would wait this long. */
    private static final Duration BUSY = Duration.ofSeconds(10);

    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();

    @Test
    void aTaskOfAddressesRunsWhileEveryVirtualThreadCarrierIsBusy() throws Exception {
        int carriers = Runtime.getRuntime().availableProcessors(); // the virtual-thread scheduler's parallelism
        AtomicBoolean busy = new AtomicBoolean(true);
        CountDownLatch allBusy = new CountDownLatch(carriers);
        List<Thread> hogs = new ArrayList<>();
        for (int i = 0; i < carriers; i++) {
            hogs.add(Thread.ofVirtual().start(() -> {
                allBusy.countDown();
                long end = System.nanoTime() + BUSY.toNanos();
                while (busy.get() && System.nanoTime() - end < 0) {
                    Thread.onSpinWait(); // never parks: holds its carrier
                }
            }));
        }
        try {
            assertTrue(allBusy.await(BUSY.toSeconds(), TimeUnit.SECONDS), "every carrier busy");
            RecordingListener listener = new RecordingListener();
            long start = System.nanoTime();
            engine.start(new PingTask("busy-carriers", List.of("127.0.0.1", "::1"), Duration.ofMillis(10), 2,
                    Duration.ofSeconds(2), 56), listener);
            TaskTotals totals = listener.await(Duration.ofSeconds(5));
            Duration took = Duration.ofNanos(listener.finishedAtNanos() - start);

            assertEquals(4, totals.sent());
            assertEquals(4, totals.received());
            assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "finished after " + took + " while the carriers were busy");
            assertTrue(hogs.stream().allMatch(Thread::isAlive), "the carriers were still busy when it finished");
        } finally {
            busy.set(false);
        }
    }
}
