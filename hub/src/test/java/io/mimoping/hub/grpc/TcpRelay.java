package io.mimoping.hub.grpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * Forwards every TCP connection it accepts to one destination: lets an agent inside a test network namespace
 * reach the RabbitMQ that listens on the root namespace's loopback only. {@link #freeze()} makes its
 * connections half-open, as a path whose far end vanished without a FIN or RST; {@link #cut()} ends them.
 */
public final class TcpRelay implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress destination;
    /** Counted down by {@link #freeze()}. */
    private final CountDownLatch frozen = new CountDownLatch(1);
    /** Counted down by {@link #close()}: frozen connections are let go. */
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    public TcpRelay(InetAddress listen, InetSocketAddress destination) throws IOException {
        this.server = new ServerSocket(0, 50, listen);
        this.destination = destination;
        Thread.ofVirtual().name("test-relay").start(this::accept);
    }

    public int port() {
        return server.getLocalPort();
    }

    /**
     * From now on nothing passes either way, and no side hears its connection end: every socket stays open until
     * the relay is closed.
     */
    public void freeze() {
        frozen.countDown();
    }

    /** Closes every connection relayed now, both ways, as a middlebox that drops them; new ones pass. */
    public void cut() throws IOException {
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(destination.getAddress(), destination.getPort());
                sockets.add(client);
                sockets.add(upstream);
                Thread.ofVirtual().start(() -> pump(client, upstream));
                Thread.ofVirtual().start(() -> pump(upstream, client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            byte[] buffer = new byte[8192];
            int read;
            while ((read = in.read(buffer)) >= 0 && frozen.getCount() > 0) {
                out.write(buffer, 0, read);
            }
            if (frozen.getCount() == 0) {
                closed.await(); // what was read is never passed on, not even an end
            }
        } catch (IOException e) {
            // one side went away: close both below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            sockets.remove(from);
            sockets.remove(to);
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
        closed.countDown();
        server.close();
    }
}
