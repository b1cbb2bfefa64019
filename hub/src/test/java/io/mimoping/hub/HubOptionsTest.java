package io.mimoping.hub;

import io.mimoping.agent.config.LogFormat;
import io.mimoping.agent.config.Settings;
import io.mimoping.hub.guard.ConnectionLimits;
import io.mimoping.hub.guard.FdBudget;
import io.mimoping.hub.stream.StreamLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubOptionsTest {

    private static final Map<String, String> NO_ENV = Map.of();
    private static final Path EXAMPLE = Path.of("..", "deploy", "config", "hub.properties");

    @TempDir
    Path dir;

    @Test
    void defaults() {
        HubOptions options = HubOptions.parse(new String[0], NO_ENV);
        assertEquals("127.0.0.1", options.host());
        assertEquals(8080, options.port());
        assertNull(options.agentToken());
        assertEquals(Duration.ofMillis(5000), options.heartbeat());
        assertEquals(Duration.ofMillis(15000), options.heartbeatTimeout());
    }

    @Test
    void helpIsAnsweredWhateverTheOtherSettingsSay() {
        HubOptions options = HubOptions.parse(new String[] {"--help", "--addr", "nowhere"},
                Map.of("MIMOPING_HEARTBEAT", "5"));
        assertTrue(options.help());
        assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[0], Map.of("MIMOPING_HEARTBEAT", "5")));
    }

    @Test
    void theTokenComesFromTheEnvironmentAndTheFlagWins() {
        Map<String, String> env = Map.of(HubOptions.AGENT_TOKEN_ENV, "from-env");
        assertEquals("from-env", HubOptions.parse(new String[0], env).agentToken());
        assertEquals("from-flag", HubOptions.parse(new String[] {"--agent-token", "from-flag"}, env).agentToken());
        assertEquals("single", HubOptions.parse(new String[] {"-agent-token", "single"}, NO_ENV).agentToken());
    }

    @Test
    void anEmptyTokenIsAMistake() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[] {"--agent-token", ""}, NO_ENV));
        assertTrue(e.getMessage().contains("must not be empty"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[0], Map.of(HubOptions.AGENT_TOKEN_ENV, "")));
    }

    @Test
    void theHeartbeatSetsTheTimeoutToThreeBeats() {
        HubOptions options = HubOptions.parse(new String[] {"--heartbeat", "200", "--addr", "[::1]:0"}, NO_ENV);
        assertEquals(Duration.ofMillis(200), options.heartbeat());
        assertEquals(Duration.ofMillis(600), options.heartbeatTimeout());
        assertEquals("::1", options.host());
        assertEquals(0, options.port());
    }

    @Test
    void badValuesAreRefusedWithTheirName() {
        for (String[] args : new String[][] {{"--heartbeat", "fast"}, {"--heartbeat", "5"}, {"--heartbeat"},
                {"--agent-token"}, {"--addr", "nowhere"}, {"--bogus"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HubOptions.parse(args, NO_ENV));
            assertTrue(e.getMessage().contains(args[0]), e.getMessage());
        }
    }

    @Test
    void theExampleFileDocumentsEveryKeyAndFlagsThenEnvironmentOverrideIt() throws IOException {
        String example = Files.readString(EXAMPLE);
        for (Settings.Key key : HubOptions.KEYS) {
            assertTrue(example.contains("\n" + key.name() + " = ") || example.contains("\n#" + key.name() + " = "),
                    key.name() + " in " + EXAMPLE);
            assertTrue(example.contains("env " + key.env()), key.env() + " in " + EXAMPLE);
        }
        Path file = dir.resolve("hub.properties");
        Files.writeString(file, example + "\naddr = 127.0.0.2:9000\nlog-format = json\nheartbeat = 700\n");
        HubOptions fromFile = HubOptions.parse(new String[] {"--config", file.toString()}, NO_ENV);
        assertEquals("127.0.0.2", fromFile.host());
        assertEquals(9000, fromFile.port());
        assertEquals(LogFormat.JSON, fromFile.logFormat());
        HubOptions layered = HubOptions.parse(new String[] {"--config", file.toString(), "--heartbeat", "900"},
                Map.of("MIMOPING_HEARTBEAT", "800", "MIMOPING_ADDR", ":0"));
        assertEquals(Duration.ofMillis(900), layered.heartbeat(), "the flag wins");
        assertEquals("0.0.0.0", layered.host(), "the environment wins over the file");
        assertEquals(0, layered.port());
    }

    @Test
    void everyInvalidValueIsRefusedNamingItsKeyWhereverItWasSet() throws IOException {
        Map<String, String> cases = Map.of("addr", "nowhere", "rabbitmq-broker-url", "http://x", "agent-token", "",
                "heartbeat", "5", "log-format", "xml", "retain-events", "0", "retain-bytes", "lots", "keep-finished", "-1");
        for (var entry : cases.entrySet()) {
            String key = entry.getKey();
            String env = key.equals("agent-token") ? HubOptions.AGENT_TOKEN_ENV
                    : "MIMOPING_" + key.toUpperCase().replace('-', '_');
            Path file = dir.resolve(key + ".properties");
            Files.writeString(file, key + " = " + entry.getValue() + "\n");
            for (var source : Map.of("--" + key + " ", new String[] {"--" + key, entry.getValue()},
                    key + " (in " + file + ") ", new String[] {"--config", file.toString()}).entrySet()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> HubOptions.parse(source.getValue(), NO_ENV));
                assertTrue(e.getMessage().startsWith(source.getKey()), e.getMessage());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HubOptions.parse(new String[0], Map.of(env, entry.getValue())));
            assertTrue(e.getMessage().startsWith(env + " "), e.getMessage());
        }
    }

    @Test
    void streamRetentionIsConfigurable() {
        assertEquals(StreamLimits.DEFAULTS, HubOptions.parse(new String[0], NO_ENV).streams());
        StreamLimits limits = HubOptions.parse(new String[] {"--retain-events", "500", "--retain-bytes", "65536",
                "--keep-finished", "30"}, NO_ENV).streams();
        assertEquals(500, limits.retainEvents());
        assertEquals(65_536, limits.retainBytes());
        assertEquals(Duration.ofSeconds(30), limits.keepFinished());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[] {"--retain-events", "0"}, NO_ENV));
        assertTrue(e.getMessage().contains("--retain-events must be 1.."), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HubOptions.parse(new String[] {"--retain-bytes", "lots"}, NO_ENV));
        assertTrue(e.getMessage().contains("--retain-bytes must be a whole number"), e.getMessage());
    }

    @Test
    void connectionCapsAreSizedFromTheFileDescriptorsUnlessGivenAndTimeoutsAreConfigurable() {
        ConnectionLimits auto = HubOptions.parse(new String[0], NO_ENV).connections();
        assertEquals(ConnectionLimits.DEFAULTS, auto);
        ConnectionLimits fitted = auto.fitted(new FdBudget(65_536, 200));
        assertEquals((65_536 - 200 - FdBudget.RESERVE) * 3 / 4, fitted.maxConnections());
        assertEquals(fitted.maxConnections() / 4, fitted.maxPerClient());

        ConnectionLimits given = HubOptions.parse(new String[] {"--max-connections", "500", "--max-connections-per-client",
                "0", "--header-timeout", "2000", "--idle-timeout", "5000"}, Map.of("MIMOPING_BODY_TIMEOUT", "7000"))
                .connections();
        assertEquals(new ConnectionLimits(500, 0, Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(7)),
                given.fitted(new FdBudget(1024, 100)), "given caps are kept, 0: no per-client cap");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[] {"--max-connections", "lots"}, NO_ENV));
        assertTrue(e.getMessage().contains("--max-connections must be auto or a whole number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[] {"--max-connections", "0"}, NO_ENV));
        assertTrue(e.getMessage().contains("--max-connections must be auto or 1..10000000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HubOptions.parse(new String[] {"--header-timeout", "5"}, NO_ENV));
        assertTrue(e.getMessage().contains("--header-timeout must be 100..3600000 ms"), e.getMessage());
    }
}
