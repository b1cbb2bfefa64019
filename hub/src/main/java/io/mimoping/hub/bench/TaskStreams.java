package io.mimoping.hub.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The benchmarks' clients of a background task ({@code POST /tasks}): each transport reads the task's events
 * from a cursor until the task ends or the client's time is up (it then leaves, as a closed browser tab does),
 * and counts them without parsing them, so that the client costs little beside the hub.
 */
final class TaskStreams {

    /** For a client that stays to the end of the task. */
    static final long TO_THE_END = Long.MAX_VALUE;

    private static final Pattern NEXT = Pattern.compile("\"cursor\":(\\d+),\"ended\":(true|false)}$");
    private static final Pattern ID = Pattern.compile("\"id\":\"([0-9a-f]+)\"");

    enum Transport { SSE, LONG_POLL, WEBSOCKET }

    private final HttpClient http;
    private final String base;

    /** Clients of the hub at {@code http://127.0.0.1:port}. */
    TaskStreams(HttpClient http, int port) {
        this.http = http;
        this.base = "http://127.0.0.1:" + port;
    }

    /** Starts a background task; its id. */
    String start(String body) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/tasks"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = ID.matcher(response.body());
        if (response.statusCode() != 201 || !m.find()) {
            throw new IllegalStateException("POST /tasks answered " + response.statusCode() + ": " + response.body());
        }
        return m.group(1);
    }

    /** The body of {@code GET path}, within {@code timeout}. */
    String get(String path, Duration timeout) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /**
     * Reads the task with {@code transport} from {@code cursor} until it ends or {@code until} ({@link System#nanoTime}
     * or {@link #TO_THE_END}) passed; the events it got.
     */
    long read(Transport transport, String id, long cursor, long until) throws IOException, InterruptedException {
        return switch (transport) {
            case SSE -> sse(id, cursor, until);
            case LONG_POLL -> longPoll(id, cursor, until);
            case WEBSOCKET -> webSocket(id, cursor, until);
        };
    }

    /** Counts the events of an SSE stream: each ends with an empty line. */
    private long sse(String id, long cursor, long until) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/tasks/" + id + "/events"))
                .header("Accept", "text/event-stream");
        if (cursor > 0) {
            request.header("Last-Event-ID", String.valueOf(cursor - 1));
        }
        HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        long events = 0;
        byte[] buffer = new byte[64 * 1024];
        int previous = 0;
        try (InputStream in = response.body()) {
            for (int read; System.nanoTime() - until < 0 && (read = in.read(buffer)) > 0; ) {
                for (int i = 0; i < read; i++) {
                    if (buffer[i] == '\n' && previous == '\n') {
                        events++;
                    }
                    previous = buffer[i];
                }
            }
        }
        return events;
    }

    /** Long-polls the task from {@code cursor}; the number of events it got. */
    private long longPoll(String id, long cursor, long until) throws IOException, InterruptedException {
        long from = cursor;
        while (System.nanoTime() - until < 0) {
            String page = get("/tasks/" + id + "/events?cursor=" + cursor + "&wait=5s", Duration.ofSeconds(30));
            Matcher m = NEXT.matcher(page);
            if (!m.find()) {
                throw new IllegalStateException("not a long-poll page: " + page.substring(Math.max(0, page.length() - 200)));
            }
            cursor = Long.parseLong(m.group(1));
            if (m.group(2).equals("true")) {
                break;
            }
        }
        return cursor - from;
    }

    private long webSocket(String id, long cursor, long until) throws InterruptedException, IOException {
        AtomicLong events = new AtomicLong();
        CompletableFuture<Long> done = new CompletableFuture<>();
        WebSocket socket = http.newWebSocketBuilder()
                .buildAsync(URI.create(base.replace("http:", "ws:") + "/tasks/" + id + "/ws?cursor=" + cursor),
                        new WebSocket.Listener() {
                            @Override
                            public void onOpen(WebSocket webSocket) {
                                webSocket.request(Long.MAX_VALUE);
                            }

                            @Override
                            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                                if (last) {
                                    events.incrementAndGet();
                                }
                                return null;
                            }

                            @Override
                            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                                done.complete(events.get());
                                return null;
                            }

                            @Override
                            public void onError(WebSocket webSocket, Throwable error) {
                                done.completeExceptionally(error);
                            }
                        }).join();
        try {
            return until == TO_THE_END ? done.get() : done.get(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            socket.abort();
            return events.get();
        } catch (ExecutionException e) {
            throw new IOException("the WebSocket of task " + id + " failed", e.getCause());
        }
    }
}
