package io.mimoping.hub;

import io.mimoping.hub.stream.StreamLimits;

import java.time.Duration;
import java.util.Map;

/**
 * Command-line options of {@code mimoping hub}, read once at start.
 *
 * @param host       address to listen on
 * @param port       port to listen on (0: any free port)
 * @param agentToken what agents must present to register over {@code /ws}; {@code null}: none needed
 * @param heartbeat  how often the hub and its agents exchange heartbeats
 * @param brokerUrl  RabbitMQ URL for distributed mode; {@code null}: embedded mode (the hub pings alone)
 * @param help       whether usage was asked for
 * @param streams    what tasks started with {@code POST /tasks} keep for their stream clients
 */
record HubOptions(String host, int port, String agentToken, Duration heartbeat, String brokerUrl, boolean help,
                  StreamLimits streams) {

    /** Environment variable holding the agent token; {@code --agent-token} wins over it. */
    static final String AGENT_TOKEN_ENV = "MIMOPING_AGENT_TOKEN";
    static final Duration DEFAULT_HEARTBEAT = Duration.ofMillis(5000);
    /** An agent silent for this many heartbeats is forgotten. */
    static final int TIMEOUT_HEARTBEATS = 3;

    static final String USAGE = """
            usage: mimoping hub [--addr HOST:PORT] [--rabbitmq-broker-url URL] [--agent-token TOKEN] [--heartbeat MS]
              --addr HOST:PORT      where to listen (default 127.0.0.1:8080; [::1]:8080 for IPv6)
              --rabbitmq-broker-url URL
                                    distributed mode: agents on this RabbitMQ broker can ping
                                    (amqp://USER:PASS@HOST:5672/); without it the hub pings alone
              --agent-token TOKEN   agents must present TOKEN to register (default: $MIMOPING_AGENT_TOKEN;
                                    neither set: any agent may register)
              --heartbeat MS        heartbeat interval with agents (default 5000); an agent silent for
                                    3 intervals is forgotten
              --retain-events N     events kept per task for stream clients (default 100000)
              --retain-bytes N      bytes of events kept per task (default 16777216); older events are
                                    a 'gap' to clients that come back for them
              --keep-finished S     seconds a finished task stays readable at /tasks (default 600)
              -h, --help            this text""";

    /** How long an agent may stay silent before the hub forgets it. */
    Duration heartbeatTimeout() {
        return heartbeat.multipliedBy(TIMEOUT_HEARTBEATS);
    }

    static HubOptions parse(String[] args, Map<String, String> env) {
        String host = "127.0.0.1";
        int port = 8080;
        String token = env.get(AGENT_TOKEN_ENV);
        Duration heartbeat = DEFAULT_HEARTBEAT;
        String broker = null;
        StreamLimits streams = StreamLimits.DEFAULTS;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help", "-help" -> {
                    return new HubOptions(host, port, null, heartbeat, null, true, streams);
                }
                case "--addr", "-addr" -> {
                    String addr = value(args, ++i, arg, "HOST:PORT");
                    int colon = addr.lastIndexOf(':');
                    if (colon < 0) {
                        throw new IllegalArgumentException("--addr must be HOST:PORT, got '" + addr + "'");
                    }
                    host = addr.substring(0, colon).replace("[", "").replace("]", "");
                    if (host.isEmpty()) {
                        host = "0.0.0.0";
                    }
                    try {
                        port = Integer.parseInt(addr.substring(colon + 1));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--addr port must be a number, got '" + addr + "'");
                    }
                    if (port < 0 || port > 65_535) {
                        throw new IllegalArgumentException("--addr port must be 0..65535, got " + port);
                    }
                }
                case "--agent-token", "-agent-token" -> token = value(args, ++i, arg, "TOKEN");
                case "--rabbitmq-broker-url", "-rabbitmq-broker-url" -> {
                    broker = value(args, ++i, arg, "URL");
                    if (!broker.startsWith("amqp://") && !broker.startsWith("amqps://")) {
                        throw new IllegalArgumentException("--rabbitmq-broker-url must be amqp://... or amqps://..., got '"
                                + broker + "'");
                    }
                }
                case "--heartbeat", "-heartbeat" -> {
                    String ms = value(args, ++i, arg, "MS");
                    long millis;
                    try {
                        millis = Long.parseLong(ms);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--heartbeat must be a number of ms, got '" + ms + "'");
                    }
                    if (millis < 10 || millis > 600_000) {
                        throw new IllegalArgumentException("--heartbeat must be 10..600000 ms, got " + millis);
                    }
                    heartbeat = Duration.ofMillis(millis);
                }
                case "--retain-events", "-retain-events" -> streams = streams.withRetention(
                        (int) number(value(args, ++i, arg, "N"), arg, 1, 100_000_000),
                        streams.retainBytes(), streams.keepFinished());
                case "--retain-bytes", "-retain-bytes" -> streams = streams.withRetention(streams.retainEvents(),
                        number(value(args, ++i, arg, "N"), arg, 1, 1L << 40), streams.keepFinished());
                case "--keep-finished", "-keep-finished" -> streams = streams.withRetention(streams.retainEvents(),
                        streams.retainBytes(), Duration.ofSeconds(number(value(args, ++i, arg, "S"), arg, 0, 604_800)));
                default -> throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
        }
        if (token != null && token.isEmpty()) {
            throw new IllegalArgumentException("the agent token must not be empty (unset "
                    + AGENT_TOKEN_ENV + " or omit --agent-token to let any agent register)");
        }
        return new HubOptions(host, port, token, heartbeat, broker, false, streams);
    }

    private static long number(String text, String option, long min, long max) {
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a number, got '" + text + "'");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    private static String value(String[] args, int i, String option, String what) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value " + what);
        }
        return args[i];
    }
}
