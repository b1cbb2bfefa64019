package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** Real clients of the task streams, on the JDK's HTTP and WebSocket clients: what a user's program does. */
public final class StreamClients implements AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private final String base;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public StreamClients(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    HttpClient http() {
        return http;
    }

    URI uri(String path) {
        return URI.create(base + path);
    }

    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    static long cursor(JsonNode event) {
        return event.get("metadata").get("cursor").asLong();
    }

    public static String type(JsonNode event) {
        return event.get("type").asText();
    }

    public HttpResponse<String> send(String method, String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(90))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts a task with {@code POST /tasks}; its id. */
    public String start(String body) {
        HttpResponse<String> response = send("POST", "/tasks", body, "Content-Type", "application/json");
        if (response.statusCode() != 201) {
            throw new AssertionError("POST /tasks answered " + response.statusCode() + ": " + response.body());
        }
        return json(response.body()).get("id").asText();
    }

    /** One Server-Sent Event: its {@code id:} and its data. */
    record Sse(long id, JsonNode event) {
    }

    /** Reads an SSE stream to its end; {@code lastEventId} null: from the start. */
    List<Sse> sse(String taskId, String lastEventId) {
        List<Sse> events = new ArrayList<>();
        try (Stream<String> lines = sseLines(taskId, lastEventId)) {
            readSse(lines.iterator(), events, Integer.MAX_VALUE);
        }
        return events;
    }

    Stream<String> sseLines(String taskId, String lastEventId) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/tasks/" + taskId + "/events"))
                .header("Accept", "text/event-stream");
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        try {
            HttpResponse<Stream<String>> response = http.send(request.build(), HttpResponse.BodyHandlers.ofLines());
            if (response.statusCode() != 200) {
                response.body().close();
                throw new AssertionError("SSE answered " + response.statusCode());
            }
            if (!response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
                throw new AssertionError("SSE content type: " + response.headers());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Reads up to {@code max} events of an SSE stream into {@code into}. */
    static void readSse(Iterator<String> lines, List<Sse> into, int max) {
        long id = -1;
        int read = 0;
        while (read < max && lines.hasNext()) {
            String line = lines.next();
            if (line.startsWith("id: ")) {
                id = Long.parseLong(line.substring(4));
            } else if (line.startsWith("data: ")) {
                into.add(new Sse(id, json(line.substring(6))));
                read++;
            }
        }
    }

    /** Long-polls from {@code cursor} until the task has ended; every event, gaps included. */
    public List<JsonNode> longPoll(String taskId, long cursor) {
        List<JsonNode> events = new ArrayList<>();
        while (true) {
            HttpResponse<String> response = send("GET", "/tasks/" + taskId + "/events?cursor=" + cursor + "&wait=25s", null);
            if (response.statusCode() != 200) {
                throw new AssertionError("long-poll answered " + response.statusCode() + ": " + response.body());
            }
            JsonNode page = json(response.body());
            page.get("events").forEach(events::add);
            cursor = page.get("cursor").asLong();
            if (page.get("ended").asBoolean()) {
                return events;
            }
        }
    }

    /** A WebSocket client that records every frame, and how the connection closed. */
    static final class Ws implements WebSocket.Listener {

        final List<JsonNode> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();
        private final boolean reading;
        volatile int closeCode = -1;
        WebSocket socket;

        /** @param reading whether it takes frames as they come; if not, it takes one and then none */
        Ws(boolean reading) {
            this.reading = reading;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            socket = webSocket;
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                events.add(json(partial.toString()));
                partial.setLength(0);
            }
            if (reading) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode = statusCode;
            closed.complete(statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete("error " + error);
        }
    }

    /** Opens {@code /tasks/{id}/ws} (with {@code query} such as {@code ?cursor=3}, or ""). */
    Ws ws(String taskId, String query, boolean reading) {
        Ws listener = new Ws(reading);
        http.newWebSocketBuilder().buildAsync(URI.create(base.replace("http:", "ws:") + "/tasks/" + taskId + "/ws" + query),
                listener).join();
        return listener;
    }

    @Override
    public void close() {
        http.shutdownNow();
    }
}
