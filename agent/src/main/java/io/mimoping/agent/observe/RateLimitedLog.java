package io.mimoping.agent.observe;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs events that an attacker can repeat at will (refused agents, refused connections, malformed gRPC
 * messages) without flooding the log: the first event of a kind is one line at once; the ones that follow
 * within the interval are only counted, and when it ends one line says how many came and shows the last of
 * them: {@code "refused agents: 99 more in the last 5.0 s; the last: refused agent 'a' from …"}. While they go
 * on, that is one line per interval; an interval with none closes the kind, and its next event is a line at once.
 * <p>
 * A kind is a fixed name chosen by the caller (such as {@code "refused agents"}), never text from the peer:
 * each kind keeps a little state for as long as the log lives. The summary of an interval is written by a
 * virtual thread that lives while its kind is open, and ends by itself.
 */
public final class RateLimitedLog {

    /** How often a kind that keeps repeating is summed up, unless a log is made with its own interval. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    private final Logger logger;
    private final Duration interval;
    private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

    /** Sums up repeats every {@link #DEFAULT_INTERVAL}. */
    public RateLimitedLog(Logger logger) {
        this(logger, DEFAULT_INTERVAL);
    }

    /** Sums up repeats of each kind once per {@code interval}. */
    public RateLimitedLog(Logger logger, Duration interval) {
        this.logger = Objects.requireNonNull(logger, "logger");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, got " + interval);
        }
        this.interval = interval;
    }

    /**
     * Logs {@code message} at once if it is the first of its {@code kind} in an interval, else counts it
     * for the interval's summary line. {@code message} is only built for the lines written.
     */
    public void log(Level level, String kind, Supplier<String> message) {
        if (!logger.isLoggable(level)) {
            return;
        }
        Kind state = kinds.computeIfAbsent(kind, Kind::new);
        if (state.first(level, message)) {
            logger.logp(level, logger.getName(), null, message);
            Thread.ofVirtual().name("log-summary " + kind).start(state::summarize);
        }
    }

    /** {@link #log} at {@link Level#WARNING}. */
    public void warning(String kind, Supplier<String> message) {
        log(Level.WARNING, kind, message);
    }

    /** {@link #log} at {@link Level#INFO}. */
    public void info(String kind, Supplier<String> message) {
        log(Level.INFO, kind, message);
    }

    /** One kind's open interval: the events counted in it, and the last of them. */
    private final class Kind {

        private final String name;
        private boolean open;
        private int more;
        private Level level;
        private Supplier<String> last;

        Kind(String name) {
            this.name = name;
        }

        /** Whether this event opens the kind (and is to be written now); if not, it is counted. */
        synchronized boolean first(Level level, Supplier<String> message) {
            if (!open) {
                open = true;
                return true;
            }
            more++;
            if (this.level == null || level.intValue() >= this.level.intValue()) {
                this.level = level;
            }
            last = message;
            return false;
        }

        /** Writes one line per interval while events keep coming; closes the kind after an interval without any. */
        void summarize() {
            long started = System.nanoTime();
            while (true) {
                boolean interrupted = false;
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                int count;
                Level summaryLevel;
                Supplier<String> lastMessage;
                synchronized (this) {
                    count = more;
                    summaryLevel = level;
                    lastMessage = last;
                    more = 0;
                    level = null;
                    last = null;
                    if (count == 0 || interrupted) {
                        open = false;
                    }
                }
                long now = System.nanoTime();
                if (count > 0) {
                    double seconds = (now - started) / 1e9;
                    logger.logp(summaryLevel, logger.getName(), null, () -> String.format(Locale.ROOT,
                            "%s: %d more in the last %.1f s; the last: %s", name, count, seconds, lastMessage.get()));
                }
                if (count == 0 || interrupted) {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                    return;
                }
                started = now;
            }
        }
    }
}
