package io.mimoping.hub.stream;

import java.time.Duration;
import java.util.logging.Logger;

/**
 * Cuts off a stream client whose socket has taken nothing for {@link StreamLimits#clientTimeout()}: its
 * buffers are full, nothing more can reach it, and it would hold a thread and a connection for ever. The
 * thread writing to it must be virtual: interrupting a virtual thread blocked on a socket closes the socket,
 * so the stuck write ends. The client can come back with its cursor (and gets a {@code gap} if it fell
 * behind retention).
 */
public final class StallWatch {

    private static final Logger LOG = Logger.getLogger(StallWatch.class.getName());

    private final Duration timeout;
    private final String client;
    private final Runnable cutOff;
    private volatile long writingSince;
    private volatile boolean done;

    /**
     * Starts watching.
     *
     * @param client what to call the client in the log, such as "an SSE client of task 1234"
     * @param cutOff what ends the connection; it runs on the store's timer, so it must not block
     */
    public StallWatch(TaskStore store, String client, Runnable cutOff) {
        this.timeout = store.limits().clientTimeout();
        this.client = client;
        this.cutOff = cutOff;
        store.every(timeout.dividedBy(4), this::check);
    }

    /** A write to the client starts. */
    public void writing() {
        writingSince = System.nanoTime();
    }

    /** The client's socket took the write. */
    public void written() {
        writingSince = 0;
    }

    /** The connection ended: stop watching. */
    public void done() {
        done = true;
    }

    private boolean check() {
        if (done) {
            return false;
        }
        long since = writingSince;
        if (since != 0 && System.nanoTime() - since > timeout.toNanos()) {
            done = true;
            LOG.info(() -> "cut off " + client + ": it took nothing for " + timeout.toMillis() + " ms");
            cutOff.run();
            return false;
        }
        return true;
    }
}
