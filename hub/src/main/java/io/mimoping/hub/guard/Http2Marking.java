package io.mimoping.hub.guard;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.http2.Http2Util;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.ProtocolConfigs;
import io.helidon.webserver.http2.Http2Config;
import io.helidon.webserver.http2.Http2ConnectionProvider;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.util.List;
import java.util.Set;

/**
 * Tells the guard which connections speak HTTP/2 with prior knowledge (gRPC, {@code curl --http2-prior-knowledge}):
 * HTTP/1's listeners never see them, and once their preface has come their own protocol keeps them. It takes the
 * connections Helidon's HTTP/2 selector would take (it comes first in the listener's selectors) and hands each to
 * an HTTP/2 selector built as Helidon builds its own, from the listener's protocol configurations.
 */
final class Http2Marking implements ServerConnectionSelector {

    private final ConnectionGuard guard;
    private volatile ServerConnectionSelector http2;

    Http2Marking(ConnectionGuard guard) {
        this.guard = guard;
    }

    @Override
    public int bytesToIdentifyConnection() {
        return Http2Util.PREFACE_LENGTH;
    }

    @Override
    public Support supports(BufferData data) {
        byte[] preface = new byte[Http2Util.PREFACE_LENGTH];
        data.read(preface, 0, preface.length);
        return Http2Util.isPreface(preface) ? Support.SUPPORTED : Support.UNSUPPORTED;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return Set.of(); // TLS's ALPN stays with Helidon's own selector
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        guard.http2(HttpEvents.peer(ctx));
        return http2(ctx.listenerContext().config()).connection(ctx);
    }

    private ServerConnectionSelector http2(ListenerConfig listener) {
        ServerConnectionSelector selector = http2;
        if (selector == null) {
            ProtocolConfigs protocols = ProtocolConfigs.create(listener.protocols());
            Http2ConnectionProvider provider = new Http2ConnectionProvider();
            List<Http2Config> configs = protocols.config(provider.protocolType(), provider.protocolConfigType());
            selector = provider.create(listener.name(), configs.isEmpty() ? Http2Config.create() : configs.getFirst(),
                    protocols);
            http2 = selector;
        }
        return selector;
    }
}
