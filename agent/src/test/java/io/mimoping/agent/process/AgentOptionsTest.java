package io.mimoping.agent.process;

import io.mimoping.agent.config.HostPort;
import io.mimoping.agent.config.LogFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentOptionsTest {

    private static final String[] REQUIRED = {"--node-name", "a1", "--addr", "hub:8080", "--rabbitmq-broker-url",
            "amqp://guest:guest@127.0.0.1:5672/"};

    @TempDir
    Path dir;

    @Test
    void defaults() {
        AgentOptions options = AgentOptions.parse(REQUIRED, Map.of());
        assertEquals("a1", options.name());
        assertEquals("hub:8080", options.hub());
        assertNull(options.token());
        assertEquals(Map.of(), options.labels());
        assertEquals(new HostPort("127.0.0.1", 7070), options.controlAddr());
        assertEquals(LogFormat.TEXT, options.logFormat());
    }

    @Test
    void theExampleConfigFileIsValidAndDocumentsEveryKeyAndFlagsAndEnvironmentOverrideIt() throws IOException {
        Path example = Path.of("..", "deploy", "config", "agent.properties");
        String text = Files.readString(example);
        for (io.mimoping.agent.config.Settings.Key key : AgentOptions.KEYS) {
            assertTrue(text.contains("\n" + key.name() + " = ") || text.contains("\n#" + key.name() + " = "),
                    key.name() + " in " + example);
            assertTrue(text.contains("env " + key.env()), key.env() + " in " + example);
        }
        AgentOptions fromFile = AgentOptions.parse(new String[] {"--config", example.toString()}, Map.of());
        assertEquals("agent-1", fromFile.name());
        assertEquals("127.0.0.1:8080", fromFile.hub());
        assertEquals(new HostPort("127.0.0.1", 7070), fromFile.controlAddr());
        Path file = dir.resolve("agent.properties");
        Files.writeString(file, Files.readString(example) + "\nlabels = site=lab, rack=3\ntoken = from-file\n");
        AgentOptions layered = AgentOptions.parse(new String[] {"-config", file.toString(), "-node-name", "from-flag"},
                Map.of("MIMOPING_NODE_NAME", "from-env", "MIMOPING_AGENT_TOKEN", "from-env",
                        "MIMOPING_CONTROL_ADDR", "[::1]:0"));
        assertEquals("from-flag", layered.name());
        assertEquals("from-env", layered.token());
        assertEquals(new HostPort("::1", 0), layered.controlAddr());
        assertEquals(Map.of("site", "lab", "rack", "3"), layered.labels());
        assertEquals(Map.of("k", "v"), AgentOptions.parse(new String[] {"--config", file.toString(), "--label", "k=v"},
                Map.of()).labels());
    }

    @Test
    void everyInvalidValueIsRefusedNamingItsKey() throws IOException {
        Map<String, String> cases = Map.of(
                "node-name", "hub",
                "addr", "no-port",
                "rabbitmq-broker-url", "http://x",
                "token", "",
                "labels", "novalue",
                "control-addr", "h:70000",
                "log-format", "xml");
        for (var entry : cases.entrySet()) {
            String key = entry.getKey();
            String flag = key.equals("labels") ? "--label" : "--" + key;
            String env = key.equals("token") ? "MIMOPING_AGENT_TOKEN"
                    : "MIMOPING_" + key.toUpperCase().replace('-', '_');
            String[] withFlag = concat(REQUIRED, flag, entry.getValue());
            assertMessageStarts(flag + " ", () -> AgentOptions.parse(withFlag, Map.of()));
            assertMessageStarts(env + " ", () -> AgentOptions.parse(key.equals("node-name") || key.equals("addr")
                    || key.equals("rabbitmq-broker-url") ? without(REQUIRED, "--" + key) : REQUIRED, Map.of(env, entry.getValue())));
            Path file = dir.resolve(key + ".properties");
            Files.writeString(file, key + " = " + entry.getValue() + "\n");
            String[] withFile = concat(key.equals("node-name") || key.equals("addr") || key.equals("rabbitmq-broker-url")
                    ? without(REQUIRED, "--" + key) : REQUIRED, "--config", file.toString());
            assertMessageStarts(key + " (in " + file + ") ", () -> AgentOptions.parse(withFile, Map.of()));
        }
    }

    @Test
    void requiredKeysSayHowToSetThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AgentOptions.parse(without(REQUIRED, "--addr"), Map.of()));
        assertEquals("--addr is required (or MIMOPING_ADDR, or addr in the --config file)", e.getMessage());
    }

    private static void assertMessageStarts(String start, org.junit.jupiter.api.function.Executable parse) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, parse);
        assertEquals(start, e.getMessage().substring(0, Math.min(start.length(), e.getMessage().length())), e.getMessage());
    }

    private static String[] concat(String[] args, String... more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private static String[] without(String[] args, String flag) {
        java.util.List<String> kept = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(flag)) {
                i++;
            } else {
                kept.add(args[i]);
            }
        }
        return kept.toArray(String[]::new);
    }
}
