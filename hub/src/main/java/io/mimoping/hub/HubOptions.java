package io.mimoping.hub;

import io.mimoping.agent.config.HostPort;
import io.mimoping.agent.config.LogFormat;
import io.mimoping.agent.config.Settings;
import io.mimoping.agent.config.Settings.Key;
import io.mimoping.hub.guard.ConnectionLimits;
import io.mimoping.hub.stream.StreamLimits;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Options of {@code mimoping hub}, read once at start from its configuration file, environment and flags
 * ({@link Settings}); the keys and their defaults are {@link #KEYS}.
 *
 * @param host       address to listen on
 * @param port       port to listen on (0: any free port)
 * @param agentToken what agents must present to register over {@code /ws}; {@code null}: none needed
 * @param heartbeat  how often the hub and its agents exchange heartbeats
 * @param brokerUrl  RabbitMQ URL for distributed mode; {@code null}: embedded mode (the hub pings alone)
 * @param logFormat  how the hub logs
 * @param help       whether usage was asked for
 * @param streams    what tasks started with {@code POST /tasks} keep for their stream clients
 * @param connections what the listener allows each connection (its caps may still be {@link ConnectionLimits#AUTO})
 */
record HubOptions(String host, int port, String agentToken, Duration heartbeat, String brokerUrl, LogFormat logFormat,
                  boolean help, StreamLimits streams, ConnectionLimits connections) {

    /** Environment variable holding the agent token; {@code --agent-token} wins over it. */
    static final String AGENT_TOKEN_ENV = "MIMOPING_AGENT_TOKEN";
    /** An agent silent for this many heartbeats is forgotten. */
    static final int TIMEOUT_HEARTBEATS = 3;

    static final Key ADDR = new Key("addr", "MIMOPING_ADDR", "HOST:PORT", "127.0.0.1:8080",
            "where to listen ([::1]:8080 for IPv6, :8080 for every IPv4 address, [::]:8080 for every IPv6 and IPv4"
                    + " address)");
    static final Key BROKER = new Key("rabbitmq-broker-url", "MIMOPING_RABBITMQ_BROKER_URL", "URL", null,
            "distributed mode: agents on this RabbitMQ broker can ping (amqp://USER:PASS@HOST:5672/); unset: the hub pings alone");
    static final Key AGENT_TOKEN = new Key("agent-token", AGENT_TOKEN_ENV, "TOKEN", null,
            "agents must present TOKEN to register; unset: any agent may register");
    static final Key HEARTBEAT = new Key("heartbeat", "MIMOPING_HEARTBEAT", "MS", "5000",
            "heartbeat interval with agents, 10..600000; an agent silent for 3 intervals is forgotten");
    static final Key LOG_FORMAT = new Key("log-format", "MIMOPING_LOG_FORMAT", "text|json", "text",
            "log lines as text, or one JSON object a line");
    static final Key RETAIN_EVENTS = new Key("retain-events", "MIMOPING_RETAIN_EVENTS", "N",
            String.valueOf(StreamLimits.DEFAULTS.retainEvents()), "events kept per task for stream clients, 1..100000000");
    static final Key RETAIN_BYTES = new Key("retain-bytes", "MIMOPING_RETAIN_BYTES", "N",
            String.valueOf(StreamLimits.DEFAULTS.retainBytes()),
            "bytes of events kept per task; older events are a 'gap' to clients that come back for them");
    static final Key KEEP_FINISHED = new Key("keep-finished", "MIMOPING_KEEP_FINISHED", "S",
            String.valueOf(StreamLimits.DEFAULTS.keepFinished().toSeconds()),
            "seconds a finished task stays readable at /tasks, 0..604800");
    static final Key RETAIN_TOTAL_BYTES = new Key("retain-total-bytes", "MIMOPING_RETAIN_TOTAL_BYTES", "N",
            String.valueOf(StreamLimits.DEFAULTS.retainTotalBytes()),
            "bytes of events kept by all finished tasks together; the oldest finished tasks are forgotten first");
    static final Key MAX_TASKS = new Key("max-tasks", "MIMOPING_MAX_TASKS", "N",
            String.valueOf(StreamLimits.DEFAULTS.maxTasks()),
            "tasks started with POST /tasks running at once, 1..1000000; more are refused with 429 too_many_tasks");
    static final Key MAX_CONNECTIONS = new Key("max-connections", "MIMOPING_MAX_CONNECTIONS", "N|auto", "auto",
            "connections the listener holds at once, 1..10000000; more are refused as they come (idle keep-alives"
                    + " closed first); auto: three quarters of the file descriptors left at start after 256 more");
    static final Key MAX_PER_CLIENT = new Key("max-connections-per-client", "MIMOPING_MAX_CONNECTIONS_PER_CLIENT",
            "N|auto", "auto", "connections one client address (an IPv6 /64) holds at once, 0..10000000 (0: no cap of"
                    + " its own); auto: a quarter of max-connections");
    static final Key HEADER_TIMEOUT = new Key("header-timeout", "MIMOPING_HEADER_TIMEOUT", "MS",
            String.valueOf(ConnectionLimits.DEFAULTS.headerTimeout().toMillis()),
            "a connection must send a whole request header within MS of its accept (or of its next request's first"
                    + " line), 100..3600000");
    static final Key IDLE_TIMEOUT = new Key("idle-timeout", "MIMOPING_IDLE_TIMEOUT", "MS",
            String.valueOf(ConnectionLimits.DEFAULTS.idleTimeout().toMillis()),
            "an HTTP/1 connection is closed after MS without a next request, 100..3600000");
    static final Key BODY_TIMEOUT = new Key("body-timeout", "MIMOPING_BODY_TIMEOUT", "MS",
            String.valueOf(ConnectionLimits.DEFAULTS.bodyTimeout().toMillis()),
            "a request body must have come (the request answered) within MS of its header, 100..3600000");
    static final List<Key> KEYS = List.of(ADDR, BROKER, AGENT_TOKEN, HEARTBEAT, LOG_FORMAT, RETAIN_EVENTS, RETAIN_BYTES,
            KEEP_FINISHED, RETAIN_TOTAL_BYTES, MAX_TASKS, MAX_CONNECTIONS, MAX_PER_CLIENT, HEADER_TIMEOUT, IDLE_TIMEOUT,
            BODY_TIMEOUT);

    static final String USAGE = Settings.usage("usage: mimoping hub [OPTIONS]", KEYS);

    /** How long an agent may stay silent before the hub forgets it. */
    Duration heartbeatTimeout() {
        return heartbeat.multipliedBy(TIMEOUT_HEARTBEATS);
    }

    /** Reads the options from the arguments and the environment (and the configuration file they name). */
    static HubOptions parse(String[] args, Map<String, String> env) {
        Settings settings = Settings.load(KEYS, args, env);
        if (settings.help()) {
            return new HubOptions(null, 0, null, null, null, null, true, StreamLimits.DEFAULTS, ConnectionLimits.DEFAULTS);
        }
        HostPort addr = settings.get(ADDR.name(), Settings::hostPort);
        return new HubOptions(addr.host(), addr.port(), settings.get(AGENT_TOKEN.name(), Settings::nonEmpty),
                settings.get(HEARTBEAT.name(), Settings.millis(10, 600_000)),
                settings.get(BROKER.name(), Settings::brokerUrl),
                settings.get(LOG_FORMAT.name(), Settings::logFormat), settings.help(),
                StreamLimits.DEFAULTS.withRetention(
                        settings.get(RETAIN_EVENTS.name(), Settings.number(1, 100_000_000)).intValue(),
                        settings.get(RETAIN_BYTES.name(), Settings.number(1, 1L << 40)),
                        Duration.ofSeconds(settings.get(KEEP_FINISHED.name(), Settings.number(0, 604_800))))
                        .withBudget(settings.get(MAX_TASKS.name(), Settings.number(1, 1_000_000)).intValue(),
                                settings.get(RETAIN_TOTAL_BYTES.name(), Settings.number(1, 1L << 40))),
                new ConnectionLimits(settings.get(MAX_CONNECTIONS.name(), capOrAuto(1)),
                        settings.get(MAX_PER_CLIENT.name(), capOrAuto(0)),
                        settings.get(HEADER_TIMEOUT.name(), Settings.millis(100, 3_600_000)),
                        settings.get(IDLE_TIMEOUT.name(), Settings.millis(100, 3_600_000)),
                        settings.get(BODY_TIMEOUT.name(), Settings.millis(100, 3_600_000))));
    }

    /** A connection cap from {@code min} to 10,000,000, or {@code auto} ({@link ConnectionLimits#AUTO}). */
    private static Function<String, Integer> capOrAuto(int min) {
        Function<String, Long> number = Settings.number(min, 10_000_000);
        return text -> {
            if (text.strip().equals("auto")) {
                return ConnectionLimits.AUTO;
            }
            try {
                return number.apply(text).intValue();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().replace("must be ", "must be auto or "), e);
            }
        };
    }
}
