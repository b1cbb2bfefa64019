package io.mimoping.hub.guard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plain TCP clients of a hub's port, each from the loopback address a test names (127.0.0.2 is another client
 * than 127.0.0.1): they send what an attacker or a patient client sends, byte for byte, and watch for the hub
 * closing them.
 */
final class RawClients implements AutoCloseable {

    /** What a connection got before the hub closed it, and when it was closed. */
    record Closed(long atNanos, String received) {

        /** Milliseconds from {@code sinceNanos} to the close. */
        long afterMs(long sinceNanos) {
            return (atNanos - sinceNanos) / 1_000_000;
        }
    }

    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)content-length: *(\\d+)");

    private final String host;
    private final int port;
    private final List<Socket> sockets = new ArrayList<>();

    RawClients(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /** A connection from {@code source} that has sent {@code sent} (nothing if empty). */
    Socket open(String source, String sent) throws IOException {
        Socket socket = new Socket();
        synchronized (sockets) {
            sockets.add(socket);
        }
        socket.bind(new InetSocketAddress(source, 0));
        socket.connect(new InetSocketAddress(host, port), 5_000);
        send(socket, sent);
        return socket;
    }

    static void send(Socket socket, String text) throws IOException {
        if (!text.isEmpty()) {
            socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
        }
    }

    /** Reads {@code socket} until the hub closes it (end of stream or a reset); fails after {@code wait}. */
    static CompletableFuture<Closed> watch(Socket socket, Duration wait) {
        CompletableFuture<Closed> closed = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            try {
                socket.setSoTimeout((int) wait.toMillis());
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[8192];
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    received.write(buffer, 0, n);
                }
                closed.complete(new Closed(System.nanoTime(), received.toString(StandardCharsets.US_ASCII)));
            } catch (SocketTimeoutException e) {
                closed.completeExceptionally(new AssertionError("still open after " + wait.toMillis() + " ms, got: "
                        + received.toString(StandardCharsets.US_ASCII)));
            } catch (SocketException e) {
                closed.complete(new Closed(System.nanoTime(), received.toString(StandardCharsets.US_ASCII))); // reset
            } catch (IOException e) {
                closed.completeExceptionally(e);
            }
        });
        return closed;
    }

    /** Reads one whole response (its header and its {@code Content-Length} body) and leaves the connection open. */
    static String response(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + head.toString(StandardCharsets.US_ASCII));
            }
            head.write(b);
        }
        String header = head.toString(StandardCharsets.US_ASCII);
        Matcher length = CONTENT_LENGTH.matcher(header);
        int bodyLength = length.find() ? Integer.parseInt(length.group(1)) : 0;
        return header + new String(in.readNBytes(bodyLength), StandardCharsets.US_ASCII);
    }

    /** {@code GET path} from {@code source} on a connection of its own: the whole response, or why there is none. */
    String get(String source, String path) throws IOException {
        try (Socket socket = open(source, "GET " + path + " HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")) {
            socket.setSoTimeout(10_000);
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        } catch (SocketException e) {
            return "refused: " + e.getMessage();
        }
    }

    @Override
    public void close() {
        synchronized (sockets) {
            for (Socket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
            sockets.clear();
        }
    }
}
