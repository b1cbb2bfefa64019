package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackPingTest {

    private static IcmpEngine engine;

    @BeforeAll
    static void open() {
        engine = IcmpEngine.open();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void pingsLoopbackOverBothFamilies() throws Exception {
        List<ProbeEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<TaskTotals> done = new CompletableFuture<>();
        engine.start(new PingTask("t1", List.of("127.0.0.1", "::1"), Duration.ofMillis(20), 3,
                Duration.ofSeconds(1), 56), new ProbeListener() {
            @Override
            public void onEvent(ProbeEvent event) {
                events.add(event);
            }

            @Override
            public void onFinished(TaskTotals totals) {
                done.complete(totals);
            }
        });
        TaskTotals totals = done.get(5, TimeUnit.SECONDS);
        events.forEach(System.out::println);
        assertEquals(6, totals.sent());
        assertEquals(6, totals.received());
        assertEquals(6, events.stream().filter(e -> e instanceof Reply).count());
        assertEquals(2, events.stream().filter(e -> e instanceof TargetStats).count());
        for (ProbeEvent e : events) {
            if (e instanceof Reply r) {
                assertEquals(64, r.nbytes());
                assertTrue(r.rttNanos() > 0 && r.rttNanos() < 10_000_000, "rtt " + r.rttNanos());
                assertTrue(r.ttl() > 0, "ttl " + r.ttl());
            }
        }
    }
}
