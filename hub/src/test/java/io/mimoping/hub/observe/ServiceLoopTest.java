package io.mimoping.hub.observe;

import io.mimoping.agent.observe.Health;
import io.mimoping.agent.systemd.ServiceLoop;
import io.mimoping.agent.systemd.ServiceNotifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The systemd side of a process: what {@link ServiceLoop} and {@link ServiceNotifier} send, and when. */
class ServiceLoopTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private volatile Health health;

    private static Health health(boolean live, boolean ready, String status) {
        return new Health(List.of(new Health.Check("engine", live, live ? "running" : "a thread stopped")),
                List.of(new Health.Check("registered", ready, ready ? "yes" : "no")), status);
    }

    @Test
    void readyOnceReadyWatchdogOnlyWhileLiveAndStatusOnChange() throws Exception {
        try (NotifyReceiver systemd = new NotifyReceiver(dir.resolve("notify").toString());
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", systemd.address,
                     "WATCHDOG_USEC", "200000", "WATCHDOG_PID", Long.toString(ProcessHandle.current().pid())))) {
            assertEquals(Duration.ofMillis(200), notifier.watchdog().orElseThrow());
            health = health(true, false, "waiting for the hub");
            ServiceLoop loop = new ServiceLoop(notifier, () -> health).start();
            systemd.await(m -> m.has("STATUS=waiting for the hub"), WAIT, "the first status");
            long before = System.nanoTime();
            Thread.sleep(600);
            assertTrue(systemd.count("WATCHDOG=1", before) >= 4, "a ping every 100 ms while live: " + systemd.messages());
            assertEquals(0, systemd.count("READY=1", 0), "not ready yet");

            health = health(true, true, "registered");
            loop.poke();
            NotifyReceiver.Message ready = systemd.await(m -> m.has("READY=1"), WAIT, "READY=1");
            assertTrue(ready.has("STATUS=registered"), ready.text());

            health = health(false, true, "registered");
            systemd.await(m -> m.has("STATUS=unhealthy: engine a thread stopped"), WAIT, "the unhealthy status");
            long sick = System.nanoTime();
            Thread.sleep(600);
            assertEquals(0, systemd.count("WATCHDOG=1", sick), "no watchdog ping while not live: " + systemd.messages());

            health = health(true, true, "registered again");
            systemd.await(m -> m.at() > sick && m.has("WATCHDOG=1"), WAIT, "pings again once live");
            loop.stopping("stopping: 2 task(s)");
            systemd.await(m -> m.has("STOPPING=1") && m.has("STATUS=stopping: 2 task(s)"), WAIT, "STOPPING=1");
            assertEquals(1, systemd.count("READY=1", 0), "READY=1 once");
        }
    }

    @Test
    void abstractSocketsWorkAndAnotherProcesssWatchdogIsNotOurs() throws Exception {
        String name = "@mimoping-test-" + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE);
        try (NotifyReceiver systemd = new NotifyReceiver(name);
             ServiceNotifier notifier = ServiceNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", name,
                     "WATCHDOG_USEC", "200000", "WATCHDOG_PID", "1"))) {
            assertTrue(notifier.enabled());
            assertFalse(notifier.watchdog().isPresent(), "WATCHDOG_PID names another process");
            notifier.ready("up");
            assertEquals("READY=1\nSTATUS=up", systemd.await(m -> true, WAIT, "a datagram").text());
        }
        assertFalse(ServiceNotifier.fromEnvironment(Map.of()).enabled(), "no NOTIFY_SOCKET: nothing to tell");
    }
}
