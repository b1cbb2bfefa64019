package io.mimoping.agent.systemd;

import io.mimoping.agent.icmp.NativeException;
import io.mimoping.agent.icmp.UnixDatagramSocket;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Tells systemd how the service is doing (the {@code sd_notify} protocol): {@code READY=1}, {@code STATUS=},
 * {@code WATCHDOG=1}, {@code STOPPING=1}, as datagrams to {@code $NOTIFY_SOCKET} (a path, or {@code @name}
 * in the abstract namespace). Without {@code NOTIFY_SOCKET} (not started by systemd with {@code Type=notify})
 * every call does nothing. A failed send is logged once and otherwise ignored: the service goes on.
 */
public final class ServiceNotifier implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ServiceNotifier.class.getName());

    private final UnixDatagramSocket socket;
    private final Duration watchdog;
    private boolean failed;

    private ServiceNotifier(UnixDatagramSocket socket, Duration watchdog) {
        this.socket = socket;
        this.watchdog = watchdog;
    }

    /**
     * From the environment systemd gives a service: {@code NOTIFY_SOCKET}, {@code WATCHDOG_USEC} and
     * {@code WATCHDOG_PID} (the watchdog applies only if that is this process, or unset).
     */
    public static ServiceNotifier fromEnvironment(Map<String, String> env) {
        String address = env.get("NOTIFY_SOCKET");
        if (address == null || address.isEmpty()) {
            return new ServiceNotifier(null, null);
        }
        Duration watchdog = null;
        String usec = env.get("WATCHDOG_USEC");
        String pid = env.get("WATCHDOG_PID");
        if (usec != null && (pid == null || pid.equals(Long.toString(ProcessHandle.current().pid())))) {
            try {
                long micros = Long.parseLong(usec);
                if (micros > 0) {
                    watchdog = Duration.ofNanos(micros * 1_000);
                }
            } catch (NumberFormatException e) {
                LOG.warning(() -> "ignoring WATCHDOG_USEC='" + usec + "': not a number");
            }
        }
        try {
            return new ServiceNotifier(UnixDatagramSocket.open(address), watchdog);
        } catch (IllegalArgumentException | NativeException e) {
            LOG.warning(() -> "cannot notify systemd at NOTIFY_SOCKET=" + address + ": " + e.getMessage());
            return new ServiceNotifier(null, null);
        }
    }

    /** Whether systemd listens (NOTIFY_SOCKET was set and usable). */
    public boolean enabled() {
        return socket != null;
    }

    /** The watchdog interval systemd expects pings within, if it set one for this process. */
    public Optional<Duration> watchdog() {
        return Optional.ofNullable(watchdog);
    }

    /** Start-up is complete. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    /** A line for {@code systemctl status}. */
    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    /** The service is healthy: resets systemd's watchdog timer. */
    public void watchdogPing() {
        send("WATCHDOG=1");
    }

    /** The service is stopping. */
    public void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + oneLine(status));
    }

    private synchronized void send(String message) {
        if (socket == null) {
            return;
        }
        try {
            socket.send(message);
            failed = false;
        } catch (NativeException | IllegalStateException e) {
            if (!failed) {
                failed = true;
                LOG.warning(() -> "cannot notify systemd: " + e.getMessage());
            }
        }
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ');
    }

    @Override
    public synchronized void close() {
        if (socket != null) {
            socket.close();
        }
    }
}
