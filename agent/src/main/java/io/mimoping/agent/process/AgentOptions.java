package io.mimoping.agent.process;

import io.mimoping.agent.config.HostPort;
import io.mimoping.agent.config.LogFormat;
import io.mimoping.agent.config.Settings;
import io.mimoping.agent.config.Settings.Key;
import io.mimoping.bridge.probe.AgentNames;

import java.util.List;
import java.util.Map;

/**
 * Options of {@code mimoping agent}, read once at start from its configuration file, environment and flags
 * ({@link Settings}); the keys and their defaults are {@link #KEYS}. The seed's single-dash spellings
 * ({@code -node-name}, {@code -addr}, {@code -rabbitmq-broker-url}) work too.
 *
 * @param name        the agent's name, unique among the agents of a broker
 * @param hub         the hub's HOST:PORT, where the agent registers over WebSocket
 * @param brokerUrl   RabbitMQ URL
 * @param token       the hub's agent token, or {@code null}
 * @param labels      free-form labels announced at registration
 * @param controlAddr where the agent serves its control endpoints ({@code /metrics}, {@code /health/*})
 * @param logFormat   how the agent logs
 * @param help        whether usage was asked for (then nothing else is set)
 */
record AgentOptions(String name, String hub, String brokerUrl, String token, Map<String, String> labels,
                    HostPort controlAddr, LogFormat logFormat, boolean help) {

    static final Key NODE_NAME = new Key("node-name", "MIMOPING_NODE_NAME", "NAME", null,
            "this agent's name (letters, digits, '.', '_', '-'; unique on the broker)");
    static final Key ADDR = new Key("addr", "MIMOPING_ADDR", "HOST:PORT", null,
            "the hub to register with (its HTTP port)");
    static final Key BROKER = new Key("rabbitmq-broker-url", "MIMOPING_RABBITMQ_BROKER_URL", "URL", null,
            "the RabbitMQ broker shared with the hub (amqp://USER:PASS@HOST:5672/)");
    static final Key TOKEN = new Key("token", "MIMOPING_AGENT_TOKEN", "TOKEN", null,
            "the hub's agent token, if it requires one");
    static final Key LABELS = new Key("labels", "MIMOPING_LABELS", "KEY=VALUE", null,
            "labels shown in the hub's /conns: the flag --label is repeatable; env and file take k=v,k2=v2",
            "label", true);
    static final Key CONTROL_ADDR = new Key("control-addr", "MIMOPING_CONTROL_ADDR", "HOST:PORT", "127.0.0.1:7070",
            "where the agent serves its gRPC control channel (capabilities, health, reflection), /metrics and"
                    + " /health/*; announced to the hub; port 0: any free port");
    static final Key LOG_FORMAT = new Key("log-format", "MIMOPING_LOG_FORMAT", "text|json", "text",
            "log lines as text, or one JSON object a line");
    static final List<Key> KEYS = List.of(NODE_NAME, ADDR, BROKER, TOKEN, LABELS, CONTROL_ADDR, LOG_FORMAT);

    static final String USAGE = Settings.usage("usage: mimoping agent --node-name NAME --addr HUB_HOST:PORT "
            + "--rabbitmq-broker-url amqp://USER:PASS@HOST:5672/ [OPTIONS]", KEYS);

    AgentOptions {
        labels = Map.copyOf(labels);
    }

    /** Reads the options from the arguments and the environment (and the configuration file they name). */
    static AgentOptions parse(String[] args, Map<String, String> env) {
        Settings settings = Settings.load(KEYS, args, env);
        if (settings.help()) {
            return new AgentOptions(null, null, null, null, Map.of(), null, null, true);
        }
        String name = settings.require(NODE_NAME, AgentOptions::agentName);
        String hub = settings.require(ADDR, text -> Settings.hostPort(text).toString());
        String broker = settings.require(BROKER, Settings::brokerUrl);
        String token = settings.get(TOKEN.name(), Settings::nonEmpty);
        Map<String, String> labels = settings.get(LABELS.name(), Settings::pairs);
        return new AgentOptions(name, hub, broker, token, labels == null ? Map.of() : labels,
                settings.get(CONTROL_ADDR.name(), Settings::hostPort),
                settings.get(LOG_FORMAT.name(), Settings::logFormat), false);
    }

    private static String agentName(String name) {
        if (!AgentNames.isValidAgent(name)) {
            throw new IllegalArgumentException("'" + name + "' is not a valid agent name (" + AgentNames.RULE
                    + ", not '" + AgentNames.HUB + "')");
        }
        return name;
    }
}
