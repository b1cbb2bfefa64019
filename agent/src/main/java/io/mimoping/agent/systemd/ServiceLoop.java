package io.mimoping.agent.systemd;

import io.mimoping.agent.observe.Health;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Keeps systemd informed from the process's own health checks: {@code READY=1} the first time the process
 * is ready, {@code WATCHDOG=1} on each round while it is live (never from a blind timer: a stuck or dead
 * part withholds it, and systemd restarts the service after {@code WatchdogSec}), and {@code STATUS=}
 * whenever the status line changes. Rounds come every half watchdog interval, at most a second apart, and
 * at once after {@link #poke()}.
 */
public final class ServiceLoop implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ServiceLoop.class.getName());
    private static final Duration MAX_PERIOD = Duration.ofSeconds(1);

    private final ServiceNotifier notifier;
    private final Supplier<Health> health;
    private final Duration period;
    private final Thread thread;
    private volatile boolean closed;
    private boolean ready;
    private String lastStatus;
    private boolean wasLive = true;

    public ServiceLoop(ServiceNotifier notifier, Supplier<Health> health) {
        this.notifier = notifier;
        this.health = health;
        Duration half = notifier.watchdog().map(w -> w.dividedBy(2)).orElse(MAX_PERIOD);
        this.period = half.compareTo(MAX_PERIOD) < 0 ? half : MAX_PERIOD;
        this.thread = Thread.ofPlatform().daemon().name("mimoping-systemd").unstarted(this::run);
    }

    /** Starts the rounds; returns at once. */
    public ServiceLoop start() {
        thread.start();
        return this;
    }

    /** Runs a round now (something changed, such as a registration). */
    public void poke() {
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!closed) {
            round();
            LockSupport.parkNanos(period.toNanos());
        }
    }

    private void round() {
        Health now;
        try {
            now = health.get();
        } catch (RuntimeException e) {
            now = new Health(List.of(new Health.Check("checks", false, "the health check failed: " + e)),
                    List.of(), "health check failed: " + e.getMessage());
        }
        if (closed) {
            return;
        }
        boolean live = now.live();
        String status = live ? now.status() : "unhealthy: " + failing(now);
        if (live) {
            notifier.watchdogPing();
        } else if (wasLive) {
            String why = status;
            LOG.severe(() -> "withholding the systemd watchdog ping: " + why);
        }
        wasLive = live;
        if (!ready && now.ready()) {
            ready = true;
            notifier.ready(status);
            lastStatus = status;
        } else if (!status.equals(lastStatus)) {
            notifier.status(status);
            lastStatus = status;
        }
    }

    private static String failing(Health health) {
        return Stream.concat(health.liveness().stream(), health.readiness().stream())
                .filter(check -> !check.ok())
                .map(check -> check.name() + " " + check.detail())
                .collect(Collectors.joining("; "));
    }

    /** Stops the rounds and tells systemd the service is stopping, with why. */
    public void stopping(String status) {
        close();
        notifier.stopping(status);
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        if (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
