package io.mimoping.agent.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsTest {

    private static final Settings.Key COLOR = new Settings.Key("color", "MIMOPING_COLOR", "NAME", "red", "a colour");
    private static final Settings.Key SIZE = new Settings.Key("size", "MIMOPING_SIZE", "MS", null, "a size");
    private static final Settings.Key TAGS = new Settings.Key("tags", "MIMOPING_TAGS", "K=V", null, "tags", "tag", true);
    private static final List<Settings.Key> KEYS = List.of(COLOR, SIZE, TAGS);

    @TempDir
    Path dir;

    private Path file(String text) throws IOException {
        Path file = dir.resolve("test.properties");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void flagsWinOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverDefaults() throws IOException {
        Path file = file("# a comment\ncolor = blue\nsize = 10\ntags = a=1\n");
        String[] config = {"--config", file.toString()};
        assertEquals("red", Settings.load(KEYS, new String[0], Map.of()).raw("color").text());
        Settings fromFile = Settings.load(KEYS, config, Map.of());
        assertEquals("blue", fromFile.raw("color").text());
        assertEquals("color (in " + file + ")", fromFile.raw("color").where());
        Settings fromEnv = Settings.load(KEYS, config, Map.of("MIMOPING_COLOR", "green"));
        assertEquals("green", fromEnv.raw("color").text());
        assertEquals("MIMOPING_COLOR", fromEnv.raw("color").where());
        assertEquals("10", fromEnv.raw("size").text(), "keys the environment does not set still come from the file");
        Settings fromFlag = Settings.load(KEYS, new String[] {"--config", file.toString(), "-color", "black"},
                Map.of("MIMOPING_COLOR", "green"));
        assertEquals("black", fromFlag.raw("color").text());
        assertEquals("--color", fromFlag.raw("color").where());
        assertEquals("white", Settings.load(KEYS, new String[] {"--color=white"}, Map.of()).raw("color").text());
    }

    @Test
    void theFileMayComeFromTheEnvironmentAndTheFlagWins() throws IOException {
        Path file = file("color = blue\n");
        Path other = dir.resolve("other.properties");
        Files.writeString(other, "color = pink\n");
        assertEquals("blue", Settings.load(KEYS, new String[0], Map.of("MIMOPING_CONFIG", file.toString()))
                .raw("color").text());
        assertEquals("pink", Settings.load(KEYS, new String[] {"--config", other.toString()},
                Map.of("MIMOPING_CONFIG", file.toString())).raw("color").text());
    }

    @Test
    void aRepeatableFlagAddsItemsAndReplacesLowerLayers() {
        Settings settings = Settings.load(KEYS, new String[] {"--tag", "a=1", "-tag", "b=2"}, Map.of("MIMOPING_TAGS", "c=3"));
        assertEquals(Map.of("a", "1", "b", "2"), settings.get("tags", Settings::pairs));
        assertEquals(Map.of("c", "3", "d", "4"),
                Settings.load(KEYS, new String[0], Map.of("MIMOPING_TAGS", "c=3, d=4")).get("tags", Settings::pairs));
    }

    @Test
    void aBadValueIsNamedWhereItWasSet() throws IOException {
        Path file = file("size = fast\n");
        IllegalArgumentException fromFile = assertThrows(IllegalArgumentException.class, () -> Settings
                .load(KEYS, new String[] {"--config", file.toString()}, Map.of()).get("size", Settings.millis(1, 10)));
        assertEquals("size (in " + file + ") must be a number of ms, got 'fast'", fromFile.getMessage());
        IllegalArgumentException fromEnv = assertThrows(IllegalArgumentException.class, () -> Settings
                .load(KEYS, new String[0], Map.of("MIMOPING_SIZE", "11")).get("size", Settings.millis(1, 10)));
        assertEquals("MIMOPING_SIZE must be 1..10 ms, got 11", fromEnv.getMessage());
        IllegalArgumentException fromFlag = assertThrows(IllegalArgumentException.class, () -> Settings
                .load(KEYS, new String[] {"-size", "0"}, Map.of()).get("size", Settings.millis(1, 10)));
        assertEquals("--size must be 1..10 ms, got 0", fromFlag.getMessage());
        assertEquals(Duration.ofMillis(7), Settings.load(KEYS, new String[] {"--size", "7"}, Map.of())
                .get("size", Settings.millis(1, 10)));
        assertNull(Settings.load(KEYS, new String[0], Map.of()).get("size", Settings.millis(1, 10)));
    }

    @Test
    void unknownKeysOptionsAndFilesAreRefused() throws IOException {
        Path file = file("colour = blue\n");
        assertEquals("unknown key 'colour' in " + file + " (known keys: color, size, tags)",
                assertThrows(IllegalArgumentException.class,
                        () -> Settings.load(KEYS, new String[] {"--config", file.toString()}, Map.of())).getMessage());
        assertEquals("--config: no such file " + dir.resolve("nope"), assertThrows(IllegalArgumentException.class,
                () -> Settings.load(KEYS, new String[] {"--config", dir.resolve("nope").toString()}, Map.of())).getMessage());
        assertEquals("MIMOPING_CONFIG: no such file /nonexistent/x", assertThrows(IllegalArgumentException.class,
                () -> Settings.load(KEYS, new String[0], Map.of("MIMOPING_CONFIG", "/nonexistent/x"))).getMessage());
        assertEquals("unknown option '--colour'", assertThrows(IllegalArgumentException.class,
                () -> Settings.load(KEYS, new String[] {"--colour", "x"}, Map.of())).getMessage());
        assertEquals("--size needs a value MS", assertThrows(IllegalArgumentException.class,
                () -> Settings.load(KEYS, new String[] {"--size"}, Map.of())).getMessage());
        assertEquals("unexpected argument 'stray'", assertThrows(IllegalArgumentException.class,
                () -> Settings.load(KEYS, new String[] {"stray"}, Map.of())).getMessage());
    }

    @Test
    void helpIsAFlagAndTheUsageListsEveryKey() {
        assertTrue(Settings.load(KEYS, new String[] {"-h"}, Map.of()).help());
        assertFalse(Settings.load(KEYS, new String[0], Map.of()).help());
        String usage = Settings.usage("usage: x", KEYS);
        for (Settings.Key key : List.of(COLOR, SIZE, TAGS, Settings.CONFIG)) {
            assertTrue(usage.contains("--" + key.flag() + " " + key.metavar()), usage);
            assertTrue(usage.contains("env " + key.env()), usage);
        }
        assertTrue(usage.contains("default red"), usage);
        assertTrue(usage.contains("file key tags"), usage);
    }

    @Test
    void addressesAndChoices() {
        assertEquals(new HostPort("::1", 80), Settings.hostPort("[::1]:80"));
        assertEquals(new HostPort("0.0.0.0", 8080), Settings.hostPort(":8080"));
        assertEquals("[::1]:80", Settings.hostPort("[::1]:80").toString());
        assertEquals("must be HOST:PORT, got 'nowhere'",
                assertThrows(IllegalArgumentException.class, () -> Settings.hostPort("nowhere")).getMessage());
        assertEquals("port must be 0..65535, got 70000",
                assertThrows(IllegalArgumentException.class, () -> Settings.hostPort("h:70000")).getMessage());
        assertEquals(LogFormat.JSON, Settings.logFormat("json"));
        assertEquals("must be text or json, got 'xml'",
                assertThrows(IllegalArgumentException.class, () -> Settings.logFormat("xml")).getMessage());
        assertEquals("must be KEY=VALUE items, got 'x'",
                assertThrows(IllegalArgumentException.class, () -> Settings.pairs("a=1,x")).getMessage());
    }
}
