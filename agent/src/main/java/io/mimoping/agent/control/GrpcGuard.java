package io.mimoping.agent.control;

import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.http.HttpPrologue;
import io.helidon.http.http2.Http2Headers;
import io.helidon.http.http2.Http2Settings;
import io.helidon.http.http2.Http2StreamState;
import io.helidon.http.http2.Http2StreamWriter;
import io.helidon.http.http2.StreamFlowControl;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.Router;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcConfig;
import io.helidon.webserver.grpc.GrpcProtocolSelector;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.http2.Http2Config;
import io.helidon.webserver.http2.Http2ConnectionSelector;
import io.helidon.webserver.http2.spi.Http2SubProtocolSelector;
import io.helidon.webserver.http2.spi.SubProtocolResult;
import io.helidon.webserver.spi.ProtocolConfig;
import io.mimoping.agent.observe.RateLimitedLog;

import java.util.Optional;
import java.util.logging.Logger;

/**
 * Answers bad gRPC messages with a status at once, and logs each as one line. Helidon 4.5's gRPC handler
 * meets a message over its read limit ({@link GrpcConfig#maxReadBufferSize()}, 2 MiB) or bytes its
 * parser refuses by logging a stack trace at ERROR, and the call never gets a status: the client waits
 * for ever, and the rest of an oversize message is then read as further messages, a stack trace each.
 * Here every request message is framed and checked before Helidon's handler sees it:
 * <ul>
 *     <li>one over the limit (as sent, or once decompressed) ends the call with {@code RESOURCE_EXHAUSTED}
 *     naming its size and the limit, as soon as its 5-byte prefix arrives;</li>
 *     <li>one the method's parser refuses, or whose known fields came with the wrong wire type, ends it with
 *     {@code INVALID_ARGUMENT} naming what failed;</li>
 * </ul>
 * for unary and streaming calls alike, through the call's own {@link ServerCall#close}; the log gets one
 * INFO line per refusal, rate-limited ({@link RateLimitedLog}) when they repeat.
 * <p>
 * It takes over HTTP/2 with prior knowledge (how gRPC clients connect) on the listener it is installed on;
 * the HTTP/2 and gRPC settings are the ones given to that listener's builder, or the defaults.
 */
public final class GrpcGuard {

    private static final Logger LOG = Logger.getLogger(GrpcGuard.class.getName());
    /** The stream whose call the interceptor is starting: set by the stream around Helidon's start of the call. */
    static final Context.Key<GuardedStream> STREAM = Context.key("mimoping-guarded-grpc-stream");

    private GrpcGuard() {
    }

    /** Guards the gRPC calls of {@code routing}, which {@code server} serves. */
    public static void install(WebServerConfig.Builder server, GrpcRouting.Builder routing) {
        GrpcConfig grpc = configured(server, GrpcConfig.class).orElseGet(GrpcConfig::create);
        Http2Config http2 = configured(server, Http2Config.class).orElseGet(Http2Config::create);
        Selector selector = new Selector(GrpcProtocolSelector.create(grpc), grpc.maxReadBufferSize(),
                new RateLimitedLog(LOG));
        server.addConnectionSelector(Http2ConnectionSelector.builder()
                .http2Config(http2)
                .addSubProtocolSelector(selector)
                .build());
        routing.intercept(new Attach());
    }

    private static <T extends ProtocolConfig> Optional<T> configured(WebServerConfig.Builder server, Class<T> type) {
        return server.protocols().stream().filter(type::isInstance).map(type::cast).findFirst();
    }

    /** Helidon's gRPC selector, its handlers wrapped in a {@link GuardedStream}. */
    private record Selector(GrpcProtocolSelector grpc, int maxMessage, RateLimitedLog log)
            implements Http2SubProtocolSelector {

        @Override
        public SubProtocolResult subProtocol(ConnectionContext ctx, HttpPrologue prologue, Http2Headers headers,
                                             Http2StreamWriter streamWriter, int streamId, Http2Settings serverSettings,
                                             Http2Settings clientSettings, StreamFlowControl streamFlowControl,
                                             Http2StreamState currentStreamState, Router router) {
            SubProtocolResult result = grpc.subProtocol(ctx, prologue, headers, streamWriter, streamId, serverSettings,
                    clientSettings, streamFlowControl, currentStreamState, router);
            if (!result.supported()) {
                return result;
            }
            String method = prologue.uriPath().path().substring(1);
            return new SubProtocolResult(true, new GuardedStream(result.subProtocol(), headers.httpHeaders(), maxMessage,
                    method, ctx.remotePeer().host() + ":" + ctx.remotePeer().port(), log));
        }
    }

    /** Hands the call being started to its stream, behind a guard that lets it close only once. */
    private static final class Attach implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                             ServerCallHandler<Q, R> next) {
            ServerCall<Q, R> once = new CloseOnce<>(call);
            GuardedStream stream = STREAM.get();
            if (stream != null) {
                stream.attach(once);
            }
            return next.startCall(once, headers);
        }
    }

    /**
     * A call that the stream may end (with its refusal) while the service still holds it: whichever closes
     * first wins, and nothing is sent after that.
     */
    private static final class CloseOnce<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {

        private boolean closed;

        CloseOnce(ServerCall<Q, R> call) {
            super(call);
        }

        @Override
        public synchronized void sendHeaders(Metadata headers) {
            if (!closed) {
                super.sendHeaders(headers);
            }
        }

        @Override
        public synchronized void sendMessage(R message) {
            if (!closed) {
                super.sendMessage(message);
            }
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            if (!closed) {
                closed = true;
                super.close(status, trailers);
            }
        }
    }
}
