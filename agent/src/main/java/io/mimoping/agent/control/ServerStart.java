package io.mimoping.agent.control;

import io.helidon.webserver.WebServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;

/**
 * Starts a Helidon web server and fails when it does not listen: {@link WebServer#start()} does not throw
 * when it cannot bind (it logs, and returns a stopped server whose port is -1).
 */
public final class ServerStart {

    private ServerStart() {
    }

    /**
     * Starts {@code server}, which is to listen on {@code host:port}.
     *
     * @throws IllegalStateException if it is not running; the message says why, in the kernel's words when
     *                               binding that address again fails (such as "address already in use")
     */
    public static WebServer start(WebServer server, String host, int port) {
        // Tried first, so that an address in use is one clear line, not Helidon's stack trace before it.
        Optional<String> taken = port == 0 ? Optional.empty() : bindFailure(host, port);
        if (taken.isPresent()) {
            throw new IllegalStateException(taken.get());
        }
        WebServer started = server.start();
        if (!started.isRunning()) {
            throw new IllegalStateException(bindFailure(host, port).orElse("the server did not start (its log says why)"));
        }
        return started;
    }

    /** Why {@code host:port} cannot be bound now, found by binding it; empty if it can. */
    private static Optional<String> bindFailure(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, port));
            return Optional.empty();
        } catch (IOException | IllegalArgumentException | SecurityException e) {
            String why = e.getMessage();
            return Optional.of(why == null || why.isEmpty() ? e.toString()
                    : Character.toLowerCase(why.charAt(0)) + why.substring(1));
        }
    }
}
