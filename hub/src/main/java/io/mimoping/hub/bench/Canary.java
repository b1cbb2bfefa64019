package io.mimoping.hub.bench;

import java.io.IOException;
import java.util.Arrays;

/**
 * A {@code /ping-task} stream that runs beside an attack: one loopback target probed every few milliseconds,
 * each event's arrival time kept, so that the largest gap between two events in a time window says whether
 * the hub kept serving the clients it already had. A stream that breaks is started again (and counted).
 */
final class Canary implements AutoCloseable {

    private final int port;
    private final String body;
    private final Thread reader;
    private long[] arrivals = new long[1024];
    private int size;
    private int restarts;
    private volatile boolean closed;
    private volatile StreamingPost stream;

    /** Starts the stream: {@code target} every {@code intervalMs}. */
    Canary(int port, String target, int intervalMs) {
        this.port = port;
        this.body = "{\"targets\":[\"" + target + "\"],\"interval\":" + intervalMs + ",\"count\":100000,\"timeout\":1000}";
        // a platform thread: the attacks' virtual threads in this process must not delay it
        this.reader = Thread.ofPlatform().daemon().name("canary").start(this::read);
    }

    private void read() {
        while (!closed) {
            try (StreamingPost post = new StreamingPost(port, "/ping-task", body)) {
                stream = post;
                for (String line = post.readLine(); line != null && !closed; line = post.readLine()) {
                    if (!line.isBlank()) { // a keep-alive space is not an event
                        arrived(System.nanoTime());
                    }
                }
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
            synchronized (this) {
                restarts++;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void arrived(long nanos) {
        if (size == arrivals.length) {
            arrivals = Arrays.copyOf(arrivals, size * 2);
        }
        arrivals[size++] = nanos;
    }

    /** Events received so far. */
    synchronized int events() {
        return size;
    }

    /** How often the stream broke and was started again. */
    synchronized int restarts() {
        return restarts;
    }

    /**
     * The largest time in nanoseconds without an event between {@code from} and {@code to} ({@link System#nanoTime}),
     * counting the silence at either edge of the window.
     */
    synchronized long maxGap(long from, long to) {
        long previous = from;
        long gap = 0;
        for (int i = 0; i < size; i++) {
            long at = arrivals[i];
            if (at - from > 0 && at - to <= 0) {
                gap = Math.max(gap, at - previous);
                previous = at;
            }
        }
        return Math.max(gap, to - previous);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        closed = true;
        StreamingPost post = stream;
        if (post != null) {
            post.close();
        }
        reader.interrupt();
        reader.join(5_000);
    }
}
