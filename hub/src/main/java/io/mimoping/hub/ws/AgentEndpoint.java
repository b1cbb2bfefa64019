package io.mimoping.hub.ws;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.websocket.WsRouting;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;
import io.mimoping.bridge.probe.AgentNames;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /ws}: where agents register and heartbeat. One instance per connection, driven by that
 * connection's thread. The protocol, JSON text frames:
 * <pre>
 * agent → hub, first  {"type":"register","name":"agent-1","version":"0.1.0","labels":{"k":"v"},
 *                      "control_addr":"127.0.0.1:7070"|null,"token":"…"}      (labels, control_addr, token optional)
 * hub → agent         {"type":"registered","hub":"…","heartbeat_ms":N,"timeout_ms":M}
 * both ways           {"type":"heartbeat"}  every heartbeat_ms; silent for timeout_ms = gone
 * </pre>
 * Refusals close the connection: {@value #PROTOCOL_ERROR} protocol error (bad JSON, first frame not a
 * registration, invalid or reserved name), {@value #INVALID_TOKEN} invalid agent token,
 * {@value #DUPLICATE_NAME} a live agent has the name already, {@value #NO_TASKS} this hub gives agents no tasks
 * (it runs without a broker; agents retry, as the hub may come back with one). The hub closes a silent agent's connection
 * with {@value #HEARTBEAT_TIMEOUT}. Unknown message types after registration are ignored.
 *
 * <p>A connection that ends without a close frame (the agent's process killed, its network reset) is noticed at
 * once, not at the heartbeat timeout: Helidon 4.5.0's {@code WsConnection} reads frames outside the code that
 * reports errors, so on end of stream or a reset neither {@link #onClose} nor {@link #onError} is called (helidon
 * #7703, #7886). Each connection runs on its own virtual thread, which ends right after the server has closed the
 * socket; the endpoint waits for that end on a parked virtual thread of its own. A half-open connection (the peer
 * gone without FIN or RST) never ends that way: the heartbeat timeout forgets it.
 */
public final class AgentEndpoint implements WsListener {

    public static final String PATH = "/ws";
    public static final int PROTOCOL_ERROR = 4000;
    public static final int INVALID_TOKEN = 4001;
    public static final int NO_TASKS = 4003;
    public static final int HEARTBEAT_TIMEOUT = 4008;
    public static final int DUPLICATE_NAME = 4009;

    /** Largest message accepted (a registration is far smaller). */
    static final int MAX_MESSAGE = 64 * 1024;
    static final int MAX_LABELS = 64;
    static final int MAX_LABEL_LENGTH = 256;
    /** A close frame's reason may carry at most 123 bytes. */
    private static final int MAX_REASON_BYTES = 123;

    private static final Logger LOG = Logger.getLogger(AgentEndpoint.class.getName());
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String HEARTBEAT = "{\"type\":\"heartbeat\"}";

    private enum State { OPEN, REGISTERED, CLOSED }

    private final AgentRegistry registry;
    private final StringBuilder partial = new StringBuilder();
    private volatile State state = State.OPEN;
    /** Whether the connection has ended (the peer closed it, or it failed). */
    private volatile boolean finished;
    /** Whether the agent has been sent its {@code registered} answer: no heartbeat goes before it. */
    private volatile boolean welcomed;
    private WsSession session;
    /** The server's thread of this connection: it ends when the connection has ended. */
    private volatile Thread connection;
    private String remote = "?";
    private AgentRegistry.Entry entry;

    private AgentEndpoint(AgentRegistry registry) {
        this.registry = registry;
    }

    /** The WebSocket routing of {@code /ws}, a fresh endpoint for each connection. */
    public static WsRouting.Builder routing(AgentRegistry registry) {
        return WsRouting.builder().endpoint(PATH, () -> new AgentEndpoint(registry));
    }

    /**
     * Agents are no browsers. A browser names the page that opens a WebSocket ({@code Origin}); an agent never
     * does. Without this, any page the operator opens could register agents here and hold their names.
     */
    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        Optional<String> page = headers.first(HeaderNames.ORIGIN);
        if (page.isPresent()) {
            registry.refusals().warning("refused browser pages on " + PATH, () -> "refused a browser page's WebSocket to "
                    + PATH + " (Origin " + page.get() + "): agents send no Origin");
            throw new WsUpgradeException("agents are not browser pages (this request has Origin " + page.get() + ")");
        }
        return Optional.empty();
    }

    @Override
    public void onOpen(WsSession session) {
        this.session = session;
        this.remote = remoteAddress(session);
        Thread connection = Thread.currentThread();
        this.connection = connection;
        Thread.ofVirtual().name("mimoping-agent-connection-end").start(() -> awaitEnd(connection));
        registry.schedule(this::registrationOverdue, registry.timeout());
    }

    /**
     * Waits for the connection's thread to end; if the connection ended without a close frame or an error Helidon
     * reported, the agent's connection dropped.
     */
    private void awaitEnd(Thread connection) {
        try {
            connection.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        // what the connection's thread did (onClose, onError, register) happened before its end
        if (!finished) {
            finished = true;
            state = State.CLOSED;
            if (entry != null) {
                registry.dropped(entry, "connection dropped without a close frame (the agent's process ended,"
                        + " or its network reset the connection)");
            }
        }
    }

    /** A connection that has not registered within the timeout is a protocol error (and held a thread). */
    private void registrationOverdue() {
        synchronized (this) {
            if (state != State.OPEN) {
                return;
            }
            state = State.CLOSED;
        }
        String reason = "no registration within " + registry.timeout().toMillis() + " ms";
        logRefusal(PROTOCOL_ERROR, reason, null);
        Session handle = new Session(session, connection);
        handle.close(PROTOCOL_ERROR, reason);
        registry.schedule(handle::abort, registry.heartbeat());
    }

    @Override
    public void onMessage(WsSession session, String text, boolean last) {
        if (state == State.CLOSED) {
            return;
        }
        if (partial.length() + text.length() > MAX_MESSAGE) {
            refuse(PROTOCOL_ERROR, "message larger than " + MAX_MESSAGE + " bytes", null);
            return;
        }
        partial.append(text);
        if (last) {
            String message = partial.toString();
            partial.setLength(0);
            handle(message);
        }
    }

    @Override
    public void onMessage(WsSession session, BufferData buffer, boolean last) {
        if (state != State.CLOSED) {
            refuse(PROTOCOL_ERROR, "binary frames are not part of the protocol: send JSON text", null);
        }
    }

    @Override
    public void onClose(WsSession session, int status, String reason) {
        ended("disconnected (" + status + (reason == null || reason.isEmpty() ? "" : " " + reason) + ")");
    }

    @Override
    public void onError(WsSession session, Throwable t) {
        ended("connection failed: " + t);
    }

    private void ended(String reason) {
        finished = true;
        state = State.CLOSED;
        if (entry != null) {
            registry.left(entry, reason);
        }
    }

    private void handle(String message) {
        JsonNode node;
        try {
            node = JSON.readTree(message);
        } catch (JacksonException e) {
            refuse(PROTOCOL_ERROR, "invalid JSON: " + e.getOriginalMessage(), null);
            return;
        }
        if (node == null || !node.isObject()) {
            refuse(PROTOCOL_ERROR, "a message must be a JSON object", null);
            return;
        }
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            refuse(PROTOCOL_ERROR, "a message needs a string 'type'", null);
            return;
        }
        if (entry == null) {
            if (!type.textValue().equals("register")) {
                refuse(PROTOCOL_ERROR, "the first message must be a registration, got '" + type.textValue() + "'", null);
                return;
            }
            register(node);
            return;
        }
        registry.heard(entry);
        switch (type.textValue()) {
            case "heartbeat" -> {
            }
            case "register" -> refuse(PROTOCOL_ERROR, "already registered as '" + entry.agent().name() + "'", null);
            default -> LOG.fine(() -> "agent '" + entry.agent().name() + "' sent an unknown message type '"
                    + type.textValue() + "': ignored");
        }
    }

    /** Runs on the connection's thread; holds the endpoint's lock so that a registration and its deadline never cross. */
    private synchronized void register(JsonNode node) {
        if (state != State.OPEN) {
            return;
        }
        JsonNode nameNode = node.get("name");
        if (nameNode == null || !nameNode.isTextual()) {
            refuse(PROTOCOL_ERROR, "a registration needs a string 'name'", null);
            return;
        }
        String name = nameNode.textValue();
        if (!AgentNames.PATTERN.matcher(name).matches()) {
            refuse(PROTOCOL_ERROR, "invalid agent name: letters, digits, '.', '_', '-', at most 64", name);
            return;
        }
        if (name.equals(AgentNames.HUB)) {
            refuse(PROTOCOL_ERROR, "agent name '" + AgentNames.HUB + "' is reserved for the hub itself", name);
            return;
        }
        String version = optionalText(node, "version", 64);
        String controlAddress = optionalText(node, "control_addr", 300);
        String token = optionalText(node, "token", 4096);
        Map<String, String> labels = labels(node.get("labels"));
        if (version == null || controlAddress == null || token == null || labels == null) {
            refuse(PROTOCOL_ERROR, "'version', 'control_addr' and 'token' must be short strings, 'labels' an object"
                    + " of at most " + MAX_LABELS + " short strings", name);
            return;
        }
        if (!registry.admits(token.isEmpty() ? null : token)) {
            String why = token.isEmpty() ? "none given (the agent's --token or MIMOPING_AGENT_TOKEN)" : "wrong token";
            refuse(INVALID_TOKEN, "invalid agent token: " + why, name);
            return;
        }
        // after the token: an agent that could never register here hears so, and stops, rather than retrying
        Optional<String> refusal = registry.refusal();
        if (refusal.isPresent()) {
            refuse(NO_TASKS, refusal.get(), name);
            return;
        }
        Agent agent = new Agent(name, version.isEmpty() ? "unknown" : version, labels,
                controlAddress.isEmpty() ? null : controlAddress, remote,
                Instant.now().truncatedTo(ChronoUnit.MICROS));
        switch (registry.register(agent, new Session(session, connection))) {
            case AgentRegistry.Duplicate(Agent existing) -> refuse(DUPLICATE_NAME,
                    "agent name '" + name + "' is already registered from " + existing.remoteAddress(), name);
            case AgentRegistry.Admitted(AgentRegistry.Entry admitted) -> {
                entry = admitted;
                state = State.REGISTERED;
                // listed before the agent hears it is registered; heartbeats only after it has heard
                registry.joined(admitted);
                ObjectNode registered = JSON.createObjectNode()
                        .put("type", "registered")
                        .put("hub", registry.hubId())
                        .put("heartbeat_ms", registry.heartbeat().toMillis())
                        .put("timeout_ms", registry.timeout().toMillis());
                session.send(registered.toString(), true);
                welcomed = true;
            }
        }
    }

    /** The field's text, {@code ""} if absent or null, {@code null} if not a string or too long. */
    private static String optionalText(JsonNode node, String field, int maxLength) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return "";
        }
        return value.isTextual() && value.textValue().length() <= maxLength ? value.textValue() : null;
    }

    /** The labels, empty if absent or null, {@code null} if malformed. */
    private static Map<String, String> labels(JsonNode node) {
        Map<String, String> labels = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return labels;
        }
        if (!node.isObject() || node.size() > MAX_LABELS) {
            return null;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> label = it.next();
            JsonNode value = label.getValue();
            if (label.getKey().length() > MAX_LABEL_LENGTH || !value.isTextual()
                    || value.textValue().length() > MAX_LABEL_LENGTH) {
                return null;
            }
            labels.put(label.getKey(), value.textValue());
        }
        return labels;
    }

    /** Closes the connection with a code and a reason the agent can show; the agent is never registered. */
    private void refuse(int code, String reason, String name) {
        state = State.CLOSED;
        if (entry != null) {
            registry.left(entry, "protocol error: " + reason);
        }
        logRefusal(code, reason, name);
        session.close(code, closeReason(reason));
    }

    /**
     * One line per refusal, counted per close code when they repeat; a WARNING when the operator has to act
     * (an agent with a wrong token, or agents on a hub without RabbitMQ), else INFO.
     */
    private void logRefusal(int code, String reason, String name) {
        Level level = code == INVALID_TOKEN || code == NO_TASKS ? Level.WARNING : Level.INFO;
        registry.refusals().log(level, "refused on " + PATH + " with " + code, () -> "refused "
                + (name == null ? "a connection" : "agent '" + name + "'") + " from " + remote + " with " + code + ": "
                + reason);
    }

    /** A close reason cut to the 123 bytes a close frame can carry. */
    public static String closeReason(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_REASON_BYTES) {
            return reason;
        }
        int end = reason.length();
        while (reason.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES - 3) {
            end--;
        }
        if (end > 0 && Character.isHighSurrogate(reason.charAt(end - 1))) {
            end--;
        }
        return reason.substring(0, end) + "...";
    }

    private static String remoteAddress(WsSession session) {
        SocketAddress address = session.socketContext().remotePeer().address();
        if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String host = inet.getAddress().getHostAddress();
            int percent = host.indexOf('%');
            if (percent >= 0) {
                host = host.substring(0, percent);
            }
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** The registry's handle on this connection. */
    private final class Session implements AgentSession {

        private final WsSession ws;
        private final Thread connection;

        private Session(WsSession ws, Thread connection) {
            this.ws = ws;
            this.connection = connection;
        }

        @Override
        public void heartbeat() {
            if (welcomed) {
                ws.send(HEARTBEAT, true);
            }
        }

        @Override
        public void close(int code, String reason) {
            ws.close(code, closeReason(reason));
        }

        @Override
        public void abort() {
            if (!finished && ws instanceof ServerConnection server) {
                server.close(true);
            }
        }

        @Override
        public boolean ended() {
            return !connection.isAlive();
        }
    }
}
