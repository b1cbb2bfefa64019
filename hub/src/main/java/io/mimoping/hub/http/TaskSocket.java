package io.mimoping.hub.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.uri.UriQuery;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.websocket.WsRouting;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;
import io.mimoping.hub.event.EventWriter;
import io.mimoping.hub.observe.ClientStreams;
import io.mimoping.hub.stream.EventLog;
import io.mimoping.hub.stream.StallWatch;
import io.mimoping.hub.stream.StreamedTask;
import io.mimoping.hub.stream.TaskStore;
import io.mimoping.hub.ws.AgentEndpoint;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /tasks/{id}/ws}: a task's events as WebSocket JSON text frames, one event a frame, from
 * {@code ?cursor=N} (default 0). Past retention the first frame is a {@code gap} event. The hub closes with
 * {@value #NORMAL} after the task's {@code end}; {@value #TOO_BIG} when the client sends more than
 * {@value #MAX_MESSAGE} bytes in a message (it has nothing to say); {@value #UNSUPPORTED} for binary;
 * {@value #TIMEOUT} when, while no event was due, it answered no ping for
 * {@link io.mimoping.hub.stream.StreamLimits#clientTimeout()} (the reason names the cursor to resume from).
 * A client that takes no frame for that long is cut off (its socket is full: no close frame can reach it).
 * An unknown task or a bad cursor opens the connection and closes it at once with 4000 + the HTTP status
 * ({@code 4404}, {@code 4400}) and the reason, which browsers can show (they never see a refused upgrade's
 * status); a plain HTTP {@code GET} of the path answers the same as {@code {"error":…}}.
 *
 * <p>Browsers may connect only from the hub's own origin (the {@code Origin} header's host and port must be
 * the {@code Host} the request was sent to); clients that send no {@code Origin} are not browsers. A foreign
 * origin is refused before the upgrade (403).
 */
public final class TaskSocket implements WsListener {

    public static final String PATH = "/tasks/{id}/ws";
    public static final int NORMAL = 1000;
    public static final int UNSUPPORTED = 1003;
    public static final int TOO_BIG = 1009;
    public static final int TIMEOUT = 4008;
    static final int MAX_MESSAGE = 4096;

    private static final Logger LOG = Logger.getLogger(TaskSocket.class.getName());

    private final TaskStore store;
    private final Object sending = new Object();
    private StreamedTask task;
    private RequestException refusal;
    private long start;
    private WsSession session;
    private Thread pump;
    private int received;
    private volatile boolean closed;
    /** When the client last showed it is there: a frame from it, or a frame to it that its socket took. */
    private volatile long lastHeard = System.nanoTime();
    private StallWatch stalls;
    private final ClientStreams clients;
    /** This connection as a client stream, from open (unless refused) to whichever end comes first. */
    private volatile ClientStreams.Stream stream;

    private TaskSocket(TaskStore store, ClientStreams clients) {
        this.store = store;
        this.clients = clients;
    }

    /** Adds the WebSocket route to {@code routing}, a fresh listener per connection, counted in {@code clients}. */
    public static WsRouting.Builder routing(WsRouting.Builder routing, TaskStore store, ClientStreams clients) {
        return routing.endpoint(PATH, () -> new TaskSocket(store, clients));
    }

    /** What a plain HTTP request to the WebSocket path gets: the reason it was not upgraded. */
    public static HttpService refusals(TaskStore store) {
        return new Refusals(store);
    }

    /** The task and cursor a connection asks for, or a {@link RequestException} saying what is wrong. */
    private record Ask(StreamedTask task, long cursor) {
    }

    private static Ask check(TaskStore store, String path, UriQuery query, Headers headers) {
        SameOrigin.check(headers);
        String[] parts = path.split("/");
        StreamedTask task = TasksService.find(store, parts.length == 4 ? parts[2] : "");
        long cursor = TasksService.cursor(query);
        TasksService.checkCursor(task, cursor, "cursor");
        return new Ask(task, cursor);
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        try {
            Ask ask = check(store, prologue.uriPath().path(), prologue.query(), headers);
            task = ask.task();
            start = ask.cursor();
        } catch (RequestException e) {
            if (e.status() == Status.FORBIDDEN_403) {
                throw new WsUpgradeException(e.getMessage());
            }
            // a browser sees no status of a refused upgrade, but does see a close reason: opened, then closed
            refusal = e;
        }
        return Optional.empty();
    }

    @Override
    public void onOpen(WsSession session) {
        this.session = session;
        if (refusal != null) {
            closed = true;
            session.close(4000 + refusal.status().code(), AgentEndpoint.closeReason(refusal.getMessage()));
            return;
        }
        stream = clients.open(ClientStreams.Transport.WEBSOCKET);
        pump = Thread.ofVirtual().name("ws-" + task.id()).unstarted(this::pump);
        stalls = new StallWatch(store, "a WebSocket client of task " + task.id(), this::cutOff);
        pump.start();
    }

    @Override
    public void onMessage(WsSession session, String text, boolean last) {
        lastHeard = System.nanoTime();
        received += text.length();
        if (received > MAX_MESSAGE) {
            close(TOO_BIG, "messages to a task stream may be at most " + MAX_MESSAGE + " bytes (it reads none)");
        }
        if (last) {
            received = 0;
        }
    }

    @Override
    public void onMessage(WsSession session, BufferData buffer, boolean last) {
        close(UNSUPPORTED, "binary frames are not part of the protocol");
    }

    @Override
    public void onPong(WsSession session, BufferData buffer) {
        lastHeard = System.nanoTime();
    }

    @Override
    public void onClose(WsSession session, int status, String reason) {
        ended();
    }

    @Override
    public void onError(WsSession session, Throwable t) {
        LOG.log(Level.FINE, t, () -> "a WebSocket client of task " + task.id() + " failed");
        ended();
    }

    private void ended() {
        closed = true;
        endStream();
        if (stalls != null) {
            stalls.done();
        }
        if (pump != null) {
            pump.interrupt();
        }
    }

    /** Sends the task's events from the asked cursor on, pinging the client while they flow or not. */
    private void pump() {
        EventLog log = task.events();
        Duration timeout = store.limits().clientTimeout();
        Duration pingEvery = timeout.dividedBy(3);
        long cursor = start;
        long lastPing = System.nanoTime();
        try {
            while (!closed) {
                EventLog.Batch batch = log.read(cursor, pingEvery);
                if (batch.gap() != null) {
                    byte[] gap = EventWriter.gap(task.id(), batch.gap().from(), batch.gap().to());
                    send(new String(gap, 0, gap.length - 1, StandardCharsets.UTF_8));
                }
                for (byte[] event : batch.events()) {
                    send(new String(event, StandardCharsets.UTF_8));
                }
                cursor = batch.next();
                if (batch.ended()) {
                    close(NORMAL, "task ended");
                    return;
                }
                long now = System.nanoTime();
                if (now - lastHeard > timeout.toNanos()) {
                    close(TIMEOUT, "no pong for " + timeout.toMillis() + " ms; resume with ?cursor=" + cursor);
                    return;
                }
                if (now - lastPing >= pingEvery.toNanos()) {
                    lastPing = now;
                    synchronized (sending) {
                        session.ping(BufferData.empty());
                    }
                }
            }
        } catch (InterruptedException e) {
            // the connection ended
        } catch (RuntimeException e) {
            // a connection that breaks may end without onClose or onError
            LOG.log(Level.FINE, e, () -> "a WebSocket client of task " + task.id() + " went away");
            ended();
        }
    }

    private void send(String text) {
        synchronized (sending) {
            if (closed) {
                return;
            }
            stalls.writing();
            session.send(text, true);
            stalls.written();
            // socket buffers are bounded: a client whose frames keep being taken is reading them
            lastHeard = System.nanoTime();
        }
    }

    private void close(int code, String reason) {
        synchronized (sending) {
            if (!closed) {
                closed = true;
                endStream();
                session.close(code, AgentEndpoint.closeReason(reason));
            }
        }
    }

    /** Ends the connection of a client that has taken no frame for the client timeout (never blocks). */
    private void cutOff() {
        closed = true;
        clients.cutOff();
        endStream();
        pump.interrupt();
        if (session instanceof ServerConnection connection) {
            connection.close(true);
        }
    }

    private void endStream() {
        ClientStreams.Stream open = stream;
        if (open != null) {
            open.close();
        }
    }

    /** Plain HTTP on the WebSocket path: the upgrade was refused (or not asked for); says why. */
    private record Refusals(TaskStore store) implements HttpService {

        @Override
        public void routing(HttpRules rules) {
            rules.get(PATH, this::refuse);
        }

        private void refuse(ServerRequest req, ServerResponse res) {
            check(store, req.path().path(), req.query(), req.headers());
            res.header(HeaderNames.UPGRADE, "websocket"); // a 426 says which protocol to upgrade to (RFC 9110)
            throw new RequestException(Status.UPGRADE_REQUIRED_426, "websocket_required", null,
                    "this is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)");
        }
    }
}
