package io.mimoping.hub.guard;

import io.helidon.common.socket.SocketOptions;

import java.net.Socket;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The listener's socket options, and its accept hook: Helidon configures each accepted socket with these
 * before it reads a byte, and closes the socket (and goes on accepting) when configuring it throws, which is
 * how the guard refuses a connection.
 */
final class GuardedSocketOptions implements SocketOptions {

    private final SocketOptions options;
    private final ConnectionGuard guard;

    GuardedSocketOptions(SocketOptions options, ConnectionGuard guard) {
        this.options = options;
        this.guard = guard;
    }

    @Override
    public void configureSocket(SocketChannel socket) {
        options.configureSocket(socket);
        guard.admit(socket);
    }

    @Override
    public void configureSocket(Socket socket) {
        options.configureSocket(socket);
    }

    @Override
    public Map<SocketOption<?>, Object> socketOptions() {
        return options.socketOptions();
    }

    @Override
    public Duration connectTimeout() {
        return options.connectTimeout();
    }

    @Override
    public Duration readTimeout() {
        return options.readTimeout();
    }

    @Override
    public Optional<Integer> socketReceiveBufferSize() {
        return options.socketReceiveBufferSize();
    }

    @Override
    public Optional<Integer> socketSendBufferSize() {
        return options.socketSendBufferSize();
    }

    @Override
    public boolean socketReuseAddress() {
        return options.socketReuseAddress();
    }

    @Override
    public boolean socketKeepAlive() {
        return options.socketKeepAlive();
    }

    @Override
    public boolean tcpNoDelay() {
        return options.tcpNoDelay();
    }
}
