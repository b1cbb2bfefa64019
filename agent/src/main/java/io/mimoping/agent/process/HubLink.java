package io.mimoping.agent.process;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mimoping.bridge.probe.AgentNames;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.random.RandomGenerator;

/**
 * Keeps an agent registered with its hub over the hub's {@code /ws} WebSocket: registers, exchanges
 * heartbeats, notices a silent hub, and reconnects after any disconnect with jittered exponential backoff
 * (full jitter, so that the agents of a restarted hub come back spread in time).
 *
 * <p>One virtual thread owns the connection; the listener is called on it, so it must not block long.
 * A refusal that retrying cannot fix ends the link: {@value #INVALID_TOKEN} (invalid agent token) and
 * {@value #PROTOCOL_ERROR} (the hub does not accept what this agent sends) are reported through
 * {@link Listener#onRefused} and the link stops. A duplicate name ({@value #DUPLICATE_NAME}) is retried at
 * least every few seconds ({@link #UNREADY_ATTEMPTS}): the hub replaces a registration whose connection has
 * ended, but may hold a half-open connection of this same agent until its heartbeat timeout. A hub that gives
 * agents no tasks ({@value #NO_TASKS}, it runs without a broker) is retried too: it may come back with one.
 * The backoff starts again from its first step after each registration the hub accepted.
 *
 * <p>The protocol (JSON text frames) is described on the hub's {@code AgentEndpoint}.
 */
public final class HubLink implements AutoCloseable {

    public static final int PROTOCOL_ERROR = 4000;
    public static final int INVALID_TOKEN = 4001;
    public static final int NO_TASKS = 4003;
    public static final int DUPLICATE_NAME = 4009;

    /**
     * While the agent cannot serve, or its name is held at the hub, it registers again within
     * {@code initial × 2^UNREADY_ATTEMPTS}, 8 s by default.
     */
    static final int UNREADY_ATTEMPTS = 4;
    /** How long connecting, and then each send, may take. */
    static final Duration IO_TIMEOUT = Duration.ofSeconds(10);
    /** How long to wait for the hub's answer to a registration, before it has said its own timeout. */
    static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger LOG = Logger.getLogger(HubLink.class.getName());
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String HEARTBEAT = "{\"type\":\"heartbeat\"}";

    /**
     * What the agent announces.
     *
     * @param name           the agent's name: letters, digits, '.', '_', '-', at most 64, not {@code hub}
     * @param version        its version ({@link AgentVersion#current()})
     * @param labels         free-form labels, may be empty
     * @param controlAddress {@code host:port} of its gRPC control channel, {@code null} if none
     * @param token          the hub's agent token, {@code null} if the hub needs none
     */
    public record Registration(String name, String version, Map<String, String> labels, String controlAddress,
                               String token) {

        public Registration {
            Objects.requireNonNull(name, "name");
            if (!AgentNames.isValidAgent(name)) {
                throw new IllegalArgumentException("invalid agent name '" + name + "': " + AgentNames.RULE
                        + "; not '" + AgentNames.HUB + "'");
            }
            Objects.requireNonNull(version, "version");
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }

        @Override
        public String toString() {
            return "Registration[name=" + name + ", version=" + version + ", labels=" + labels
                    + ", controlAddress=" + controlAddress + ", token=" + (token == null ? "none" : "***") + "]";
        }
    }

    /**
     * Thrown by {@link Listener#onRegistered} when the agent cannot serve now (another process of its name takes
     * its tasks): the link leaves the hub, saying why, and registers again after a backoff.
     */
    public static final class NotReadyException extends RuntimeException {

        public NotReadyException(String why) {
            super(why);
        }
    }

    /** What becomes of the link; called on the link's own thread. */
    public interface Listener {

        /**
         * The hub accepted the registration (again, after each reconnect).
         *
         * @throws NotReadyException if the agent cannot serve now
         */
        void onRegistered(String hubId);

        /** The hub refused this agent for good (bad token, protocol error): the link has stopped. */
        void onRefused(int code, String reason);

        /** A connection to the hub ended (or was refused for now); the link reconnects after a backoff. */
        void onDisconnected(String reason);
    }

    /**
     * Reconnection delays: before attempt {@code n} (from 0) the link waits a uniformly random time in
     * {@code [0, min(max, initial × 2^n)]} ("full jitter"). Attempts count from the last registration.
     */
    public record Backoff(Duration initial, Duration max) {

        public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30));

        public Backoff {
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("need 0 < initial <= max, got " + initial + " and " + max);
            }
        }

        /** The upper bound of the delay before attempt {@code attempt}. */
        public Duration ceiling(int attempt) {
            long nanos = initial.toNanos();
            for (int i = 0; i < attempt && nanos < max.toNanos(); i++) {
                nanos *= 2;
            }
            return Duration.ofNanos(Math.min(nanos, max.toNanos()));
        }

        /** A delay before attempt {@code attempt}, drawn from {@code random}. */
        public Duration delay(int attempt, RandomGenerator random) {
            return Duration.ofNanos(random.nextLong(ceiling(attempt).toNanos() + 1));
        }
    }

    private sealed interface Signal {
    }

    private record Text(String text) implements Signal {
    }

    private record Closed(int code, String reason) implements Signal {
    }

    private record Failed(Throwable error) implements Signal {
    }

    /** The agent cannot serve now ({@link #leave}). */
    private record Leave(String why) implements Signal {
    }

    /** How a connection ended. */
    private sealed interface Outcome {
    }

    /** Never connected. */
    private record Unreachable(String reason) implements Outcome {
    }

    /** Connected, then lost (or refused for now); {@code registered}: the hub had accepted it. */
    private record Lost(String reason, boolean registered) implements Outcome {
    }

    /**
     * Registered, then left: the agent cannot serve now ({@link NotReadyException}, {@link #leave}); or refused
     * because the hub holds its name ({@value #DUPLICATE_NAME}). Asked again soon either way.
     */
    private record Unready(String reason) implements Outcome {
    }

    /** Refused for good, or the link was closed. */
    private record Stopped() implements Outcome {
    }

    private final URI hubWs;
    private final Registration registration;
    private final Listener listener;
    private final Backoff backoff;
    private final HttpClient http;
    private final Thread thread;
    private volatile boolean closed;
    private volatile String hubId;
    /** The signals of the connection open now, if one is. */
    private volatile BlockingQueue<Signal> current;

    public HubLink(URI hubWs, Registration registration, Listener listener) {
        this(hubWs, registration, listener, Backoff.DEFAULT);
    }

    public HubLink(URI hubWs, Registration registration, Listener listener, Backoff backoff) {
        this.hubWs = Objects.requireNonNull(hubWs, "hubWs");
        this.registration = Objects.requireNonNull(registration, "registration");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.http = HttpClient.newBuilder().connectTimeout(IO_TIMEOUT).build();
        this.thread = Thread.ofVirtual().name("mimoping-hub-link").unstarted(this::run);
    }

    /** Starts connecting in the background; returns at once. */
    public void start() {
        if (closed) {
            throw new IllegalStateException("the hub link is closed");
        }
        thread.start();
    }

    /** Whether the link's thread runs: started, not closed, not refused for good. */
    public boolean running() {
        return thread.isAlive();
    }

    /** The id of the hub this agent is registered with right now, if it is. */
    public Optional<String> hubId() {
        return Optional.ofNullable(hubId);
    }

    /**
     * The agent cannot serve now (its queue was taken by another process of its name): the link leaves the hub it
     * is connected to, saying why, and registers again after a backoff, as when {@link Listener#onRegistered}
     * throws {@link NotReadyException}. Nothing happens while not connected.
     */
    public void leave(String why) {
        BlockingQueue<Signal> signals = current;
        if (signals != null) {
            signals.add(new Leave(why));
        }
    }

    /** Says goodbye to the hub (close 1000) and stops; waits a little for the link's thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IllegalThreadStateException e) {
            // never started
        }
        http.close();
    }

    private void run() {
        int attempt = 0;
        boolean reachable = true;
        while (!closed) {
            Outcome outcome = connectOnce();
            switch (outcome) {
                case Stopped() -> {
                    return;
                }
                case Lost(String reason, boolean registered) -> {
                    if (registered) {
                        attempt = 0;
                    }
                    reachable = true;
                    tell(() -> listener.onDisconnected(reason));
                }
                case Unready(String reason) -> {
                    // retried while the cause lasts, but soon enough to take over once it is gone
                    attempt = Math.min(attempt, UNREADY_ATTEMPTS);
                    reachable = true;
                    tell(() -> listener.onDisconnected(reason));
                }
                case Unreachable(String reason) -> {
                    if (reachable) {
                        LOG.warning(() -> "cannot reach the hub at " + hubWs + ": " + reason + "; retrying");
                    } else {
                        LOG.fine(() -> "cannot reach the hub at " + hubWs + ": " + reason);
                    }
                    reachable = false;
                }
            }
            if (closed) {
                return;
            }
            Duration delay = backoff.delay(attempt++, ThreadLocalRandom.current());
            LOG.fine(() -> "reconnecting to " + hubWs + " in " + delay.toMillis() + " ms");
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                return; // closed
            }
        }
    }

    private Outcome connectOnce() {
        BlockingQueue<Signal> signals = new LinkedBlockingQueue<>();
        current = signals;
        WebSocket ws;
        try {
            ws = http.newWebSocketBuilder()
                    .connectTimeout(IO_TIMEOUT)
                    .buildAsync(hubWs, new Receiver(signals))
                    .get(IO_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            return new Stopped();
        } catch (ExecutionException e) {
            return new Unreachable(describe(e.getCause()));
        } catch (TimeoutException e) {
            return new Unreachable("no answer within " + IO_TIMEOUT.toSeconds() + " s");
        }
        try {
            return converse(ws, signals);
        } catch (InterruptedException e) {
            goodbye(ws, "agent stopping");
            return new Stopped();
        } finally {
            current = null;
            hubId = null;
            ws.abort();
        }
    }

    /** Registers on an open connection and keeps it alive until it ends. */
    private Outcome converse(WebSocket ws, BlockingQueue<Signal> signals) throws InterruptedException {
        String registered = null;
        long silenceNanos = REGISTER_TIMEOUT.toNanos();
        long beatNanos = 0;
        long lastHeard = System.nanoTime();
        long nextBeat = Long.MAX_VALUE;
        if (!send(ws, registerMessage())) {
            return new Lost("could not send the registration", false);
        }
        while (true) {
            long now = System.nanoTime();
            long wait = Math.min(lastHeard + silenceNanos, nextBeat) - now;
            Signal signal = signals.poll(Math.max(0, wait), TimeUnit.NANOSECONDS);
            now = System.nanoTime();
            if (closed) {
                goodbye(ws, "agent stopping");
                return new Stopped();
            }
            switch (signal) {
                case null -> {
                    if (now - lastHeard >= silenceNanos) {
                        return new Lost("the hub was silent for " + TimeUnit.NANOSECONDS.toMillis(now - lastHeard)
                                + " ms", registered != null);
                    }
                    if (now >= nextBeat) {
                        nextBeat = now + beatNanos;
                        if (!send(ws, HEARTBEAT)) {
                            return new Lost("could not send a heartbeat", true);
                        }
                    }
                }
                case Text(String text) -> {
                    lastHeard = now;
                    JsonNode message = parse(text);
                    String type = message == null ? null : message.path("type").asText(null);
                    if ("registered".equals(type) && registered == null) {
                        registered = message.path("hub").asText("?");
                        long beatMs = message.path("heartbeat_ms").asLong(0);
                        long timeoutMs = message.path("timeout_ms").asLong(0);
                        if (beatMs <= 0 || timeoutMs <= beatMs) {
                            tell(() -> listener.onRefused(PROTOCOL_ERROR, "the hub sent an invalid registration answer: " + text));
                            return new Stopped();
                        }
                        beatNanos = TimeUnit.MILLISECONDS.toNanos(beatMs);
                        silenceNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
                        nextBeat = now + beatNanos;
                        hubId = registered;
                        String id = registered;
                        try {
                            tell(() -> listener.onRegistered(id));
                        } catch (NotReadyException e) {
                            return leaving(ws, e.getMessage());
                        }
                    } else if (type == null) {
                        LOG.fine(() -> "ignored a message from the hub: " + text);
                    }
                }
                case Closed(int code, String reason) -> {
                    if (code == INVALID_TOKEN || code == PROTOCOL_ERROR) {
                        LOG.fine(() -> "the hub at " + hubWs + " refused this agent (" + code + "): " + reason);
                        tell(() -> listener.onRefused(code, reason));
                        return new Stopped();
                    }
                    String said = code + (reason.isEmpty() ? "" : " " + reason) + ")";
                    if (code == DUPLICATE_NAME) {
                        return new Unready("refused for now (" + said);
                    }
                    return new Lost((code == NO_TASKS ? "refused for now (" : "closed by the hub (") + said,
                            registered != null);
                }
                case Failed(Throwable error) -> {
                    return new Lost("connection failed: " + describe(error), registered != null);
                }
                case Leave(String why) -> {
                    return leaving(ws, why);
                }
            }
        }
    }

    /** Leaves the hub because the agent cannot serve now; it registers again within seconds ({@link #UNREADY_ATTEMPTS}). */
    private static Outcome leaving(WebSocket ws, String why) {
        goodbye(ws, why);
        return new Unready("cannot serve now: " + why);
    }

    /** Calls the listener; what it throws is logged, and the link goes on (but for {@link NotReadyException}). */
    private static void tell(Runnable call) {
        try {
            call.run();
        } catch (NotReadyException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the hub link's listener failed", e);
        }
    }

    private String registerMessage() {
        ObjectNode message = JSON.createObjectNode()
                .put("type", "register")
                .put("name", registration.name())
                .put("version", registration.version());
        ObjectNode labels = message.putObject("labels");
        new TreeMap<>(registration.labels()).forEach(labels::put);
        message.put("control_addr", registration.controlAddress());
        if (registration.token() != null) {
            message.put("token", registration.token());
        }
        return message.toString();
    }

    /** Sends one text message and waits until it is written; false if the connection is gone. */
    private boolean send(WebSocket ws, String text) throws InterruptedException {
        try {
            ws.sendText(text, true).get(IO_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException | TimeoutException | IllegalStateException e) {
            LOG.log(Level.FINE, e, () -> "sending to " + hubWs + " failed");
            return false;
        }
    }

    /** Tells the hub this agent leaves, and why (cut to a close reason's 123 bytes); best effort, briefly. */
    private static void goodbye(WebSocket ws, String why) {
        byte[] reason = why.getBytes(StandardCharsets.UTF_8);
        String cut = reason.length <= 123 ? why : new String(reason, 0, 117, StandardCharsets.UTF_8) + "...";
        try {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, cut).get(1, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException | RuntimeException e) {
            // the connection is dropped right after anyway
        }
    }

    private static JsonNode parse(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node != null && node.isObject() ? node : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    /** A short human reason for a connection failure: the first cause that says something. */
    private static String describe(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException) {
                return "connection refused" + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")");
            }
            if (cause instanceof HttpTimeoutException) {
                return "timed out";
            }
            if (cause instanceof WebSocketHandshakeException handshake) {
                return "not a WebSocket endpoint (HTTP " + handshake.getResponse().statusCode() + ")";
            }
        }
        Throwable cause = error;
        while (cause.getCause() != null && (cause.getMessage() == null || cause instanceof ExecutionException
                || cause instanceof CompletionException)) {
            cause = cause.getCause();
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    /** Turns the JDK client's callbacks into signals for the link's thread. */
    private static final class Receiver implements WebSocket.Listener {

        private final BlockingQueue<Signal> signals;
        private final StringBuilder text = new StringBuilder();

        private Receiver(BlockingQueue<Signal> signals) {
            this.signals = signals;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                signals.add(new Text(text.toString()));
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            signals.add(new Closed(code, reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            signals.add(new Failed(error));
        }
    }
}
