package io.mimoping.hub.guard;

import java.time.Duration;
import java.util.Objects;

/**
 * What the hub's listener allows each connection: how many it holds at once, per client address too, and how
 * long a client may take to send a request header, stay idle between requests, and send a request body.
 *
 * @param maxConnections connections open at once; {@link #AUTO}: sized from the file descriptor limit
 *                       ({@link FdBudget#connections()})
 * @param maxPerClient   connections open at once from one client address (an IPv6 client: its /64);
 *                       {@link #AUTO}: a quarter of {@code maxConnections}; {@code 0}: no cap of its own
 * @param headerTimeout  a connection must send a whole request header within this of its accept, or of the
 *                       first line of a request that follows an idle keep-alive
 * @param idleTimeout    an HTTP/1 connection may wait this long for its next request after a response
 * @param bodyTimeout    a request with a body must be answered (its body read) within this of its header
 */
public record ConnectionLimits(int maxConnections, int maxPerClient, Duration headerTimeout, Duration idleTimeout,
                               Duration bodyTimeout) {

    /** A cap sized when the hub starts. */
    public static final int AUTO = -1;

    public static final ConnectionLimits DEFAULTS = new ConnectionLimits(AUTO, AUTO, Duration.ofSeconds(10),
            Duration.ofSeconds(60), Duration.ofSeconds(30));

    public ConnectionLimits {
        if (maxConnections < AUTO || maxConnections == 0) {
            throw new IllegalArgumentException("maxConnections must be positive or AUTO, got " + maxConnections);
        }
        if (maxPerClient < AUTO) {
            throw new IllegalArgumentException("maxPerClient must be positive, 0 or AUTO, got " + maxPerClient);
        }
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(bodyTimeout, "bodyTimeout");
    }

    /** These limits with their {@link #AUTO} caps sized for {@code fds}. */
    public ConnectionLimits fitted(FdBudget fds) {
        int max = maxConnections == AUTO ? fds.connections() : maxConnections;
        int perClient = maxPerClient == AUTO ? Math.max(1, max / 4) : maxPerClient;
        return new ConnectionLimits(max, perClient, headerTimeout, idleTimeout, bodyTimeout);
    }
}
