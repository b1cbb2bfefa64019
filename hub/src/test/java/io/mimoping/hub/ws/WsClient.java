package io.mimoping.hub.ws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A bare agent over the JDK's WebSocket client: sends what a test says, records what the hub sends. */
public final class WsClient implements WebSocket.Listener, AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** A close frame from the hub, and when it came. */
    record Close(int code, String reason, long atNanos) {
    }

    private final HttpClient http = HttpClient.newHttpClient();
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<Close> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final WebSocket ws;
    private volatile Thread heartbeats;

    public WsClient(URI uri) throws Exception {
        ws = http.newWebSocketBuilder().buildAsync(uri, this).get(5, TimeUnit.SECONDS);
    }

    void send(String text) throws Exception {
        ws.sendText(text, true).get(5, TimeUnit.SECONDS);
    }

    void sendBinary(byte[] bytes) throws Exception {
        ws.sendBinary(ByteBuffer.wrap(bytes), true).get(5, TimeUnit.SECONDS);
    }

    /** Registers as {@code name} and returns the hub's answer. */
    public JsonNode register(String name, String token) throws Exception {
        send(registration(name, token));
        return next(Duration.ofSeconds(5));
    }

    static String registration(String name, String token) {
        return "{\"type\":\"register\",\"name\":\"" + name + "\",\"version\":\"9.9.9-test\","
                + "\"labels\":{\"site\":\"lab\",\"rack\":\"r1\"},\"control_addr\":\"127.0.0.1:7070\""
                + (token == null ? "" : ",\"token\":\"" + token + "\"") + "}";
    }

    /** Sends a heartbeat every {@code period} from now on, as a live agent does. */
    public void heartbeatEvery(Duration period) {
        heartbeats = Thread.ofVirtual().start(() -> {
            try {
                while (!closed.isDone()) {
                    Thread.sleep(period);
                    ws.sendText("{\"type\":\"heartbeat\"}", true).get(5, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                // stopped, or the connection is gone
            }
        });
    }

    /** The next message from the hub, parsed; fails if none comes in time. */
    JsonNode next(Duration wait) throws Exception {
        String text = messages.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
        if (text == null) {
            throw new AssertionError("no message from the hub within " + wait.toMillis() + " ms"
                    + (closed.isDone() ? "; closed: " + closed.getNow(null) : ""));
        }
        return JSON.readTree(text);
    }

    /** Waits until the hub has sent a message or closed; true if it sent a message. */
    boolean answered(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (messages.isEmpty() && !closed.isDone()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the hub neither answered nor closed within " + wait.toMillis() + " ms");
            }
            Thread.sleep(5);
        }
        return !messages.isEmpty();
    }

    /** The hub's close frame; fails if the hub does not close in time. */
    Close awaitClose(Duration wait) throws Exception {
        return closed.get(wait.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Drops the TCP connection without a close frame, as a killed agent process does. */
    void abort() {
        if (heartbeats != null) {
            heartbeats.interrupt();
        }
        ws.abort();
    }

    public boolean isClosed() {
        return closed.isDone();
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            messages.add(partial.toString());
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(new Close(statusCode, reason, System.nanoTime()));
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(new Close(-1, String.valueOf(error), System.nanoTime()));
    }

    @Override
    public void close() {
        if (heartbeats != null) {
            heartbeats.interrupt();
        }
        if (!closed.isDone()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                // going anyway
            }
        }
        ws.abort();
        http.close();
    }
}
