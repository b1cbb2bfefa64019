package io.mimoping.hub.guard;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http1.Http1ConnectionListener;

/**
 * What the guard learns of each HTTP/1 request: its first line and its header (Helidon's HTTP/1 receive
 * listener), its status (the send listener: {@code 101} means upgraded), and its end (a routing filter around
 * every route). The filter is also the guard's lifecycle: it sweeps while the server runs.
 * <p>
 * Helidon 4.5.0 answers {@code Connection: close} with that header but then waits for the client's next request
 * instead of closing (a client reading to the end of the connection waits for ever); the guard ends such a
 * connection's output after the response, which the client sees as the end.
 */
final class HttpEvents implements Filter {

    private final ConnectionGuard guard;
    private final Http1ConnectionListener receiving = new Http1ConnectionListener() {
        @Override
        public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
            guard.prologue(peer(ctx));
        }

        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
            guard.headers(peer(ctx), hasBody(headers));
        }
    };
    private final Http1ConnectionListener sending = new Http1ConnectionListener() {
        @Override
        public void status(ConnectionContext ctx, Status status) {
            guard.status(peer(ctx), status.code());
        }
    };

    HttpEvents(ConnectionGuard guard) {
        this.guard = guard;
    }

    Http1ConnectionListener receiving() {
        return receiving;
    }

    Http1ConnectionListener sending() {
        return sending;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        try {
            chain.proceed();
        } finally {
            guard.responded(new ConnectionGuard.Peer(req.remotePeer().address(), req.localPeer().address()),
                    res.headers().contains(HeaderValues.CONNECTION_CLOSE));
        }
    }

    @Override
    public void beforeStart() {
        guard.start();
    }

    @Override
    public void afterStop() {
        guard.stop();
    }

    static ConnectionGuard.Peer peer(ConnectionContext ctx) {
        return new ConnectionGuard.Peer(ctx.remotePeer().address(), ctx.localPeer().address());
    }

    private static boolean hasBody(Headers headers) {
        if (headers.contains(HeaderNames.TRANSFER_ENCODING)) {
            return true;
        }
        try {
            return headers.contentLength().orElse(0) > 0;
        } catch (IllegalArgumentException e) {
            return true; // Helidon refuses it and closes the connection
        }
    }
}
