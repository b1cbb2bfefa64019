package io.mimoping.hub.guard;

import io.helidon.common.buffers.BufferData;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.util.Set;

/**
 * Tells the guard which connections speak HTTP/2 (gRPC, {@code curl --http2-prior-knowledge}): HTTP/1's listeners
 * never see them, and once their preface has come their own protocol keeps them. It stands in for the listener's
 * HTTP/2 selector (the gRPC guard's), takes what that one takes and hands each connection on to it.
 */
final class Http2Marking implements ServerConnectionSelector {

    private final ConnectionGuard guard;
    private final ServerConnectionSelector http2;

    Http2Marking(ConnectionGuard guard, ServerConnectionSelector http2) {
        this.guard = guard;
        this.http2 = http2;
    }

    @Override
    public int bytesToIdentifyConnection() {
        return http2.bytesToIdentifyConnection();
    }

    @Override
    public Support supports(BufferData data) {
        return http2.supports(data);
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return http2.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        guard.http2(HttpEvents.peer(ctx));
        return http2.connection(ctx);
    }
}
