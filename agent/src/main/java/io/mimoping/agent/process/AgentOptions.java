package io.mimoping.agent.process;

import io.mimoping.bridge.probe.AgentNames;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Command-line options of {@code mimoping agent}, read once at start. The seed's single-dash spellings
 * ({@code -node-name}, {@code -addr}, {@code -rabbitmq-broker-url}) work too.
 *
 * @param name      the agent's name, unique among the agents of a broker
 * @param hub       the hub's HOST:PORT, where the agent registers over WebSocket
 * @param brokerUrl RabbitMQ URL
 * @param token     the hub's agent token, or {@code null}
 * @param labels    free-form labels announced at registration
 * @param control   where the gRPC control channel listens
 */
record AgentOptions(String name, String hub, String brokerUrl, String token, Map<String, String> labels,
                    ControlAddress control) {

    /**
     * The control channel's listening address.
     *
     * @param host address to bind (an IPv6 literal without brackets)
     * @param port port to bind; 0: the kernel chooses, and the agent announces what it got
     */
    record ControlAddress(String host, int port) {

        /** Loopback, any free port: grpcurl on the agent's host reaches it, nothing else does. */
        static final ControlAddress DEFAULT = new ControlAddress("127.0.0.1", 0);

        static ControlAddress parse(String text) {
            int colon = text.lastIndexOf(':');
            String host = colon < 0 ? "" : text.substring(0, colon).replace("[", "").replace("]", "");
            int port;
            try {
                port = colon < 0 ? -1 : Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (host.isEmpty() || port < 0 || port > 65_535) {
                throw new IllegalArgumentException("--control-addr must be HOST:PORT (port 0..65535), got '" + text + "'");
            }
            return new ControlAddress(host, port);
        }
    }

    static final String USAGE = """
            usage: mimoping agent --node-name NAME --addr HUB_HOST:PORT --rabbitmq-broker-url amqp://USER:PASS@HOST:5672/
                                  [--token TOKEN] [--label KEY=VALUE]... [--control-addr HOST:PORT]
              --node-name NAME             this agent's name (letters, digits, '.', '_', '-')
              --addr HOST:PORT             the hub to register with (its HTTP port)
              --rabbitmq-broker-url URL    the RabbitMQ broker shared with the hub
              --token TOKEN                the hub's agent token (default: $MIMOPING_AGENT_TOKEN)
              --label KEY=VALUE            a label shown in the hub's /conns (repeatable)
              --control-addr HOST:PORT     where the gRPC control channel listens (default 127.0.0.1:0:
                                           loopback, a free port; announced to the hub)
            The seed's spellings -node-name, -addr and -rabbitmq-broker-url are accepted too.""";

    AgentOptions {
        labels = Map.copyOf(labels);
    }

    /** Parses arguments; {@code environmentToken} is the value of MIMOPING_AGENT_TOKEN, or null. */
    static AgentOptions parse(String[] args, String environmentToken) {
        String name = null;
        String hub = null;
        String broker = null;
        String token = environmentToken;
        Map<String, String> labels = new LinkedHashMap<>();
        ControlAddress control = ControlAddress.DEFAULT;
        for (int i = 0; i < args.length; i++) {
            String option = args[i].startsWith("--") ? args[i].substring(1) : args[i];
            String value;
            int equals = option.indexOf('=');
            if (option.startsWith("-") && equals > 0) {
                value = option.substring(equals + 1);
                option = option.substring(0, equals);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (option) {
                case "-node-name" -> name = value;
                case "-addr" -> hub = value;
                case "-rabbitmq-broker-url" -> broker = value;
                case "-token" -> token = value;
                case "-control-addr" -> control = ControlAddress.parse(value);
                case "-label" -> {
                    int at = value.indexOf('=');
                    if (at <= 0) {
                        throw new IllegalArgumentException("--label must be KEY=VALUE, got '" + value + "'");
                    }
                    labels.put(value.substring(0, at), value.substring(at + 1));
                }
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
            }
        }
        if (name == null || hub == null || broker == null) {
            throw new IllegalArgumentException("--node-name, --addr and --rabbitmq-broker-url are required");
        }
        if (!AgentNames.isValidAgent(name)) {
            throw new IllegalArgumentException("--node-name '" + name + "' is not a valid agent name (" + AgentNames.RULE
                    + ", not '" + AgentNames.HUB + "')");
        }
        if (!hub.matches("\\[?[A-Za-z0-9.:\\-]+]?:\\d{1,5}")) {
            throw new IllegalArgumentException("--addr must be HOST:PORT, got '" + hub + "'");
        }
        return new AgentOptions(name, hub, broker, token, labels, control);
    }
}
