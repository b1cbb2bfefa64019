package io.mimoping.hub.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Many {@code POST /ping-task} streams at once from one thread and one selector, so that the clients cost little
 * beside the hub they measure (2,000 blocking clients with a thread and buffers each would compete with the hub for
 * the same cores, and time themselves). For each stream it keeps when the response head came and when the first
 * probe outcome ({@code pkt_...}) came, from the moment its connection was asked for.
 */
final class StreamFlood {

    private static final byte[] HEAD_END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OUTCOME = "{\"type\":\"pkt_".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "{\"type\":\"end\"".getBytes(StandardCharsets.US_ASCII);

    /** What the streams saw; times in nanoseconds from the start, -1 where it never came. */
    record Result(long[] head, long[] firstOutcome, int completed, int failed, String firstFailure) {
    }

    /** Finds a byte string in a stream that arrives in pieces (its first byte does not occur again in it). */
    private static final class Marker {
        private final byte[] text;
        private int matched;

        Marker(byte[] text) {
            this.text = text;
        }

        /** Whether {@code b} completes the text. */
        boolean found(byte b) {
            matched = b == text[matched] ? matched + 1 : (b == text[0] ? 1 : 0);
            if (matched == text.length) {
                matched = 0;
                return true;
            }
            return false;
        }
    }

    private static final class Client {
        final int index;
        final ByteBuffer request;
        final Marker head = new Marker(HEAD_END);
        final Marker outcome = new Marker(OUTCOME);
        final Marker end = new Marker(END);
        boolean headDone;

        Client(int index, byte[] request) {
            this.index = index;
            this.request = ByteBuffer.wrap(request);
        }
    }

    private StreamFlood() {
    }

    /** Opens {@code n} streams of {@code body} to the hub at {@code port} at once and reads them to their end. */
    static Result run(int port, String body, int n, long deadlineNanos) throws IOException {
        byte[] json = body.getBytes(StandardCharsets.UTF_8);
        byte[] request = ("POST /ping-task HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + json.length + "\r\nConnection: close\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
        long[] head = new long[n];
        long[] outcome = new long[n];
        Arrays.fill(head, -1);
        Arrays.fill(outcome, -1);
        int completed = 0;
        int failed = 0;
        String firstFailure = null;
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        try (Selector selector = Selector.open()) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                SocketChannel channel = SocketChannel.open();
                channel.configureBlocking(false);
                // many clients come from many addresses: each from one of its own in 127.0.0.0/8 (127.0.0.2,
                // 127.0.0.3, …), as the hub caps connections per client address
                channel.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[]{127, 0, (byte) (i / 254),
                        (byte) (2 + i % 254)}), 0));
                channel.connect(new InetSocketAddress("127.0.0.1", port));
                channel.register(selector, SelectionKey.OP_CONNECT, new Client(i, request));
            }
            int open = n;
            while (open > 0 && System.nanoTime() - deadlineNanos < 0) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel channel = (SocketChannel) key.channel();
                    Client client = (Client) key.attachment();
                    try {
                        if (key.isConnectable()) {
                            channel.finishConnect();
                            key.interestOps(SelectionKey.OP_WRITE);
                        } else if (key.isWritable()) {
                            channel.write(client.request);
                            if (!client.request.hasRemaining()) {
                                key.interestOps(SelectionKey.OP_READ);
                            }
                        } else if (key.isReadable()) {
                            buffer.clear();
                            int read = channel.read(buffer);
                            long now = System.nanoTime() - start;
                            boolean ended = false;
                            for (int b = 0; b < read && !ended; b++) {
                                byte c = buffer.get(b);
                                if (!client.headDone) {
                                    client.headDone = client.head.found(c);
                                    head[client.index] = client.headDone ? now : -1;
                                } else {
                                    if (client.outcome.found(c) && outcome[client.index] < 0) {
                                        outcome[client.index] = now;
                                    }
                                    ended = client.end.found(c);
                                }
                            }
                            if (ended || read < 0) { // its end event, or the hub closed the stream before it
                                completed += ended ? 1 : 0;
                                failed += ended ? 0 : 1;
                                if (!ended && firstFailure == null) {
                                    firstFailure = "a stream closed before its end event";
                                }
                                key.cancel();
                                channel.close();
                                open--;
                            }
                        }
                    } catch (IOException e) {
                        failed++;
                        if (firstFailure == null) {
                            firstFailure = e.toString();
                        }
                        key.cancel();
                        channel.close();
                        open--;
                    }
                }
                selector.selectedKeys().clear();
            }
            for (SelectionKey key : selector.keys()) {
                key.channel().close();
            }
            failed += open; // still streaming at the deadline
        }
        return new Result(head, outcome, completed, failed, firstFailure);
    }
}
