package io.mimoping.hub.grpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Forwards every TCP connection it accepts to one destination: lets an agent inside a test network namespace
 * reach the RabbitMQ that listens on the root namespace's loopback only.
 */
final class TcpRelay implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress destination;

    TcpRelay(InetAddress listen, InetSocketAddress destination) throws IOException {
        this.server = new ServerSocket(0, 50, listen);
        this.destination = destination;
        Thread.ofVirtual().name("test-relay").start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(destination.getAddress(), destination.getPort());
                Thread.ofVirtual().start(() -> pump(client, upstream));
                Thread.ofVirtual().start(() -> pump(upstream, client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void pump(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side went away: close both below
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
