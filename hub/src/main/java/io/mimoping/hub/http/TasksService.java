package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.common.uri.UriQuery;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.event.EventWriter;
import io.mimoping.hub.observe.ClientStreams;
import io.mimoping.hub.stream.EventLog;
import io.mimoping.hub.stream.StallWatch;
import io.mimoping.hub.stream.StreamedTask;
import io.mimoping.hub.stream.TaskStore;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRequestParser;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tasks that run without holding a connection, and their event streams:
 * <ul>
 * <li>{@code POST /tasks} (the body of {@code /ping-task}) → {@code 201 {"id":…,"links":{…}}}</li>
 * <li>{@code GET /tasks} running and recent tasks; {@code GET /tasks/{id}}; {@code DELETE /tasks/{id}} cancels</li>
 * <li>{@code GET /tasks/{id}/events} with {@code Accept: text/event-stream}: Server-Sent Events, {@code id:} =
 * cursor, resumed after {@code Last-Event-ID} (or from {@code ?cursor=N}); otherwise long-polling:
 * {@code ?cursor=N&wait=25s} → {@code {"events":[…],"cursor":next,"ended":bool}}</li>
 * </ul>
 * Every client reads the task's {@link EventLog} from its own cursor, so a slow one delays nobody; one that
 * asks for events no longer kept gets a {@code gap} event first.
 */
public final class TasksService implements HttpService {

    /** The longest a long-poll may wait. */
    static final Duration MAX_WAIT = Duration.ofSeconds(60);
    /** How often a silent SSE stream carries a comment, so that a client gone away is noticed. */
    static final Duration SSE_KEEP_ALIVE = Duration.ofSeconds(15);
    /** How long {@code DELETE} waits for the cancelled task's {@code end}. */
    static final Duration CANCEL_WAIT = Duration.ofSeconds(5);

    private static final Logger LOG = Logger.getLogger(TasksService.class.getName());
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final DateTimeFormatter RFC_3339_MICROS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(ZoneOffset.UTC);
    private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
    private static final Pattern WAIT = Pattern.compile("(\\d{1,9})(ms|s)?");
    private static final byte[] SSE_COMMENT = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private final TaskStore store;
    private final TaskRequestParser parser = new TaskRequestParser();
    private final ClientStreams clients;

    public TasksService(TaskStore store, ClientStreams clients) {
        this.store = store;
        this.clients = clients;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/tasks", this::start)
                .get("/tasks", this::list)
                .get("/tasks/{id}", this::show)
                .delete("/tasks/{id}", this::cancel)
                .get("/tasks/{id}/events", this::events)
                .any("/tasks", ErrorResponses.allowOnly("GET", "POST"))
                .any("/tasks/{id}", ErrorResponses.allowOnly("GET", "DELETE"))
                .any("/tasks/{id}/events", ErrorResponses.allowOnly("GET"));
    }

    @Override
    public void afterStop() {
        store.close();
    }

    private void start(ServerRequest req, ServerResponse res) {
        TaskRequest request = parser.parse(JsonBody.read(req));
        StreamedTask task;
        try {
            task = store.start(request);
        } catch (TaskStore.TooManyTasksException e) {
            throw new RequestException(Status.TOO_MANY_REQUESTS_429, "too_many_tasks", null, e.getMessage());
        } catch (TaskStore.StoppingException e) {
            throw new RequestException(Status.SERVICE_UNAVAILABLE_503, "hub_stopping", null, e.getMessage());
        }
        res.status(Status.CREATED_201);
        res.header(HeaderNames.LOCATION, "/tasks/" + task.id());
        sendJson(res, describe(task));
    }

    private void list(ServerRequest req, ServerResponse res) {
        ArrayNode tasks = JSON.createArrayNode();
        store.list().forEach(task -> tasks.add(describe(task)));
        sendJson(res, tasks);
    }

    private void show(ServerRequest req, ServerResponse res) {
        sendJson(res, describe(task(req)));
    }

    private void cancel(ServerRequest req, ServerResponse res) throws InterruptedException {
        StreamedTask task = task(req);
        task.cancel("cancelled by a client (DELETE /tasks/" + task.id() + ")");
        task.awaitEnd(CANCEL_WAIT);
        sendJson(res, describe(task));
    }

    private void events(ServerRequest req, ServerResponse res) throws InterruptedException {
        StreamedTask task = task(req);
        boolean sse = req.headers().acceptedTypes().stream()
                .anyMatch(type -> type.mediaType().equals(MediaTypes.TEXT_EVENT_STREAM));
        if (sse) {
            long from = req.headers().contains(LAST_EVENT_ID)
                    ? number(req.headers().get(LAST_EVENT_ID).get(), "Last-Event-ID", -1) + 1
                    : cursor(req.query());
            streamSse(task, from, res);
        } else {
            longPoll(task, cursor(req.query()), waitOf(req.query()), res);
        }
    }

    private void longPoll(StreamedTask task, long from, Duration wait, ServerResponse res) throws InterruptedException {
        checkCursor(task, from, "cursor");
        if (wait.isZero()) {
            // a look at what there is, like GET /tasks/{id}: no stream
            sendBatch(task, task.events().read(from, wait), res);
            return;
        }
        try (ClientStreams.Stream stream = clients.open(ClientStreams.Transport.LONGPOLL)) {
            sendBatch(task, task.events().read(from, wait), res);
        }
    }

    private static void sendBatch(StreamedTask task, EventLog.Batch batch, ServerResponse res) {
        StringBuilder body = new StringBuilder(4096).append("{\"events\":[");
        boolean first = true;
        if (batch.gap() != null) {
            byte[] gap = EventWriter.gap(task.id(), batch.gap().from(), batch.gap().to());
            body.append(new String(gap, 0, gap.length - 1, StandardCharsets.UTF_8));
            first = false;
        }
        for (byte[] event : batch.events()) {
            if (!first) {
                body.append(',');
            }
            body.append(new String(event, StandardCharsets.UTF_8));
            first = false;
        }
        body.append("],\"cursor\":").append(batch.next()).append(",\"ended\":").append(batch.ended()).append('}');
        res.header(HeaderNames.CONTENT_TYPE, MediaTypes.APPLICATION_JSON.text());
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(body.toString());
    }

    /**
     * Streams from {@code from} on to the task's end. A client whose socket takes nothing for the client
     * timeout is cut off (the stall watch interrupts this virtual thread, which closes its socket).
     */
    private void streamSse(StreamedTask task, long from, ServerResponse res) throws InterruptedException {
        EventLog log = task.events();
        if (log.ended() && from == log.next()) {
            // the client has the whole task: 204 stops a browser's EventSource from reconnecting
            res.status(Status.NO_CONTENT_204).send();
            return;
        }
        EventLog.Batch batch = read(task, from, Duration.ZERO, "Last-Event-ID");
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderNames.create("X-Accel-Buffering"), "no");
        Thread writer = Thread.currentThread();
        StallWatch stalls = new StallWatch(store, "an SSE client of task " + task.id(), () -> {
            clients.cutOff();
            writer.interrupt();
        });
        try (ClientStreams.Stream stream = clients.open(ClientStreams.Transport.SSE);
             OutputStream out = new BufferedOutputStream(res.outputStream(), 64 * 1024)) {
            while (true) {
                stalls.writing();
                if (batch.gap() != null) {
                    byte[] gap = EventWriter.gap(task.id(), batch.gap().from(), batch.gap().to());
                    writeSse(out, batch.gap().to(), gap, gap.length - 1);
                }
                long cursor = batch.start();
                for (byte[] event : batch.events()) {
                    writeSse(out, cursor++, event, event.length);
                }
                if (batch.events().isEmpty() && batch.gap() == null) {
                    out.write(SSE_COMMENT);
                }
                out.flush();
                stalls.written();
                if (batch.ended()) {
                    return;
                }
                batch = log.read(batch.next(), SSE_KEEP_ALIVE);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.FINE, e, () -> "an SSE client of task " + task.id() + " went away");
        } catch (InterruptedException e) {
            // cut off by the stall watch (the socket is closed): the client resumes with Last-Event-ID
            LOG.log(Level.FINE, e, () -> "an SSE client of task " + task.id() + " was cut off");
        } finally {
            stalls.done();
        }
    }

    private static void writeSse(OutputStream out, long cursor, byte[] event, int length) throws IOException {
        out.write(("id: " + cursor + "\ndata: ").getBytes(StandardCharsets.US_ASCII));
        out.write(event, 0, length);
        out.write('\n');
        out.write('\n');
    }

    /** Reads the task's log, refusing a cursor beyond its newest event with a 400 naming {@code field}. */
    private static EventLog.Batch read(StreamedTask task, long from, Duration wait, String field)
            throws InterruptedException {
        checkCursor(task, from, field);
        return task.events().read(from, wait);
    }

    /** No event will ever have a cursor beyond the next one: a client asking for it has it wrong. */
    static void checkCursor(StreamedTask task, long from, String field) {
        long next = task.events().next();
        if (from > next) {
            throw new RequestException(Status.BAD_REQUEST_400, "out_of_range", field, "'" + field
                    + "' asks for event " + from + ", beyond the newest of task " + task.id() + ": the next is " + next);
        }
    }

    private StreamedTask task(ServerRequest req) {
        return find(store, req.path().pathParameters().get("id"));
    }

    static StreamedTask find(TaskStore store, String id) {
        return store.find(id).orElseThrow(() -> new RequestException(Status.NOT_FOUND_404, "unknown_task", "id",
                "no task '" + id + "' (finished tasks are kept for " + store.limits().keepFinished().toSeconds()
                        + " s, the newest " + store.limits().keepTasks() + " within " + store.limits().retainTotalBytes()
                        + " bytes of events)"));
    }

    static long cursor(UriQuery query) {
        return query.contains("cursor") ? number(query.get("cursor"), "cursor", 0) : 0;
    }

    /** {@code wait}: {@code 25s}, {@code 500ms}, or a number of seconds; none: answer at once. */
    private static Duration waitOf(UriQuery query) {
        if (!query.contains("wait")) {
            return Duration.ZERO;
        }
        String text = query.get("wait");
        Matcher m = WAIT.matcher(text);
        if (!m.matches()) {
            throw new RequestException(Status.BAD_REQUEST_400, "invalid_value", "wait",
                    "'wait' must be a duration such as 25s or 500ms, got '" + text + "'");
        }
        long amount = Long.parseLong(m.group(1));
        Duration wait = "ms".equals(m.group(2)) ? Duration.ofMillis(amount) : Duration.ofSeconds(amount);
        if (wait.compareTo(MAX_WAIT) > 0) {
            throw new RequestException(Status.BAD_REQUEST_400, "out_of_range", "wait",
                    "'wait' may be at most " + MAX_WAIT.toSeconds() + "s, got '" + text + "'");
        }
        return wait;
    }

    private static long number(String text, String field, long min) {
        try {
            long value = Long.parseLong(text.trim());
            if (value >= min) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new RequestException(Status.BAD_REQUEST_400, "invalid_value", field,
                "'" + field + "' must be an event cursor (a whole number from " + min + "), got '" + text + "'");
    }

    private static ObjectNode describe(StreamedTask task) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", task.id());
        node.put("state", task.state().wireName());
        node.put("created_at", RFC_3339_MICROS.format(task.createdAt()));
        task.finishedAt().ifPresentOrElse(at -> node.put("finished_at", RFC_3339_MICROS.format(at)),
                () -> node.putNull("finished_at"));
        TaskRequest request = task.request();
        ObjectNode asked = node.putObject("request");
        request.from().forEach(asked.putArray("from")::add);
        request.targets().forEach(asked.putArray("targets")::add);
        asked.put("interval", request.interval().toMillis());
        asked.put("count", request.count());
        asked.put("timeout", request.timeout().toMillis());
        asked.put("size", request.size());
        ObjectNode events = node.putObject("events");
        events.put("first", task.events().first());
        events.put("next", task.events().next());
        task.totals().ifPresentOrElse(totals -> putTotals(node.putObject("totals"), totals), () -> node.putNull("totals"));
        String self = "/tasks/" + task.id();
        node.putObject("links")
                .put("self", self)
                .put("events", self + "/events")
                .put("ws", self + "/ws");
        return node;
    }

    private static void putTotals(ObjectNode node, TaskTotals totals) {
        node.put("sent", totals.sent());
        node.put("received", totals.received());
        node.put("timeouts", totals.timeouts());
        node.put("errors", totals.errors());
        node.put("duration_ms", totals.duration().toMillis());
    }

    private static void sendJson(ServerResponse res, Object body) {
        res.header(HeaderNames.CONTENT_TYPE, MediaTypes.APPLICATION_JSON.text());
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(body.toString());
    }
}
