package io.mimoping.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A program's configuration, read once at start from three layers, each overriding the one before: a
 * properties file ({@code --config FILE}, or {@code $MIMOPING_CONFIG}), environment variables, then
 * command-line flags. Every key has one definition ({@link Key}): its name in the file, its flag
 * ({@code --name} or the seed's {@code -name}), its environment variable, its default and its meaning;
 * the usage text is made from them. A value that cannot be used is refused with a message naming the key
 * where it was set: the flag, the variable, or the key and the file.
 */
public final class Settings {

    /** The key naming the configuration file; a flag or environment variable, not a key of the file. */
    public static final Key CONFIG = new Key("config", "MIMOPING_CONFIG", "FILE", null,
            "properties file to read first (KEY = VALUE lines, # comments)");

    /**
     * One configuration key.
     *
     * @param name         its name in the file and (with {@code --}) as a flag, such as {@code heartbeat}
     * @param env          its environment variable, such as {@code MIMOPING_HEARTBEAT}
     * @param metavar      what the value is, for the usage text, such as {@code MS}
     * @param defaultValue the value when no layer sets it, or {@code null} for none
     * @param doc          what it does, one line
     * @param flag         its flag when not {@code --name} (such as {@code --label} for {@code labels})
     * @param repeatable   whether the flag may be given again (each adds one comma-separated item)
     */
    public record Key(String name, String env, String metavar, String defaultValue, String doc, String flag,
                      boolean repeatable) {

        public Key(String name, String env, String metavar, String defaultValue, String doc) {
            this(name, env, metavar, defaultValue, doc, name, false);
        }
    }

    /**
     * A value and where it came from.
     *
     * @param text  the value as written
     * @param where the flag, variable, or key and file that set it; {@code default} for a default
     */
    public record Value(String text, String where) {
    }

    private final Map<String, Value> values;
    private final boolean help;

    private Settings(Map<String, Value> values, boolean help) {
        this.values = values;
        this.help = help;
    }

    /**
     * Reads the layers.
     *
     * @param keys every key the program knows ({@link #CONFIG} is always known)
     * @param args command-line arguments
     * @param env  the environment
     * @throws IllegalArgumentException for an unknown flag or file key, a flag without its value, or a
     *                                  configuration file that cannot be read
     */
    public static Settings load(List<Key> keys, String[] args, Map<String, String> env) {
        Map<String, Key> byFlag = new LinkedHashMap<>();
        byFlag.put(CONFIG.flag(), CONFIG);
        for (Key key : keys) {
            byFlag.put(key.flag(), key);
        }
        Map<String, Value> flags = new LinkedHashMap<>();
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help") || arg.equals("-help")) {
                help = true;
                continue;
            }
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            String option = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String value = null;
            int equals = option.indexOf('=');
            if (equals > 0) {
                value = option.substring(equals + 1);
                option = option.substring(0, equals);
            }
            Key key = byFlag.get(option);
            if (key == null) {
                throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
            String shown = "--" + key.flag();
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(shown + " needs a value " + key.metavar());
                }
                value = args[++i];
            }
            Value earlier = flags.get(key.name());
            flags.put(key.name(), key.repeatable() && earlier != null
                    ? new Value(earlier.text() + "," + value, shown) : new Value(value, shown));
        }
        Map<String, Value> values = new LinkedHashMap<>();
        for (Key key : keys) {
            if (key.defaultValue() != null) {
                values.put(key.name(), new Value(key.defaultValue(), "default"));
            }
        }
        Value config = flags.containsKey(CONFIG.name()) ? flags.get(CONFIG.name())
                : env.containsKey(CONFIG.env()) ? new Value(env.get(CONFIG.env()), CONFIG.env()) : null;
        if (config != null) {
            values.putAll(readFile(keys, config));
        }
        for (Key key : keys) {
            String fromEnv = env.get(key.env());
            if (fromEnv != null) {
                values.put(key.name(), new Value(fromEnv, key.env()));
            }
        }
        values.putAll(flags);
        values.remove(CONFIG.name());
        return new Settings(Map.copyOf(values), help);
    }

    private static Map<String, Value> readFile(List<Key> keys, Value config) {
        Path file = Path.of(config.text());
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(config.where() + ": no such file " + file);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(config.where() + ": cannot read " + file + ": " + e.getMessage());
        }
        Set<String> known = keys.stream().map(Key::name).collect(Collectors.toCollection(TreeSet::new));
        Map<String, Value> values = new LinkedHashMap<>();
        for (String name : new TreeSet<>(properties.stringPropertyNames())) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown key '" + name + "' in " + file + " (known keys: "
                        + String.join(", ", known) + ")");
            }
            values.put(name, new Value(properties.getProperty(name).strip(), name + " (in " + file + ")"));
        }
        return values;
    }

    /** Whether {@code -h}/{@code --help} was given. */
    public boolean help() {
        return help;
    }

    /** A key's value as written, if some layer (or its default) sets it. */
    public Value raw(String name) {
        return values.get(name);
    }

    /**
     * A key's value read by {@code parse}, or {@code null} if nothing sets it.
     *
     * @param parse turns the text into a value; throws {@link IllegalArgumentException} with what is wrong,
     *              worded to follow the key's name ("must be ..., got ...")
     * @throws IllegalArgumentException naming the key where it was set, then what is wrong
     */
    public <T> T get(String name, Function<String, T> parse) {
        Value value = values.get(name);
        if (value == null) {
            return null;
        }
        try {
            return parse.apply(value.text());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(value.where() + " " + e.getMessage(), e);
        }
    }

    /** Like {@link #get}, but the key must be set. */
    public <T> T require(Key key, Function<String, T> parse) {
        T value = get(key.name(), parse);
        if (value == null) {
            throw new IllegalArgumentException("--" + key.flag() + " is required (or " + key.env() + ", or "
                    + key.name() + " in the --config file)");
        }
        return value;
    }

    /** The usage text of a program: its synopsis, then one entry per key. */
    public static String usage(String synopsis, List<Key> keys) {
        StringBuilder out = new StringBuilder(synopsis).append('\n');
        List<Key> all = new ArrayList<>(keys);
        all.add(CONFIG);
        for (Key key : all) {
            out.append(String.format("  --%-28s %s%n", key.flag() + " " + key.metavar(), key.doc()));
            out.append(String.format("  %-30s %s%s%s%n", "", "env " + key.env(),
                    key.flag().equals(key.name()) ? "" : "; file key " + key.name(),
                    key.defaultValue() == null ? "" : "; default " + key.defaultValue()));
        }
        out.append("Precedence: flags, then environment, then the --config file, then defaults.\n");
        out.append("The seed's single-dash spellings (-addr, -node-name, ...) are accepted too; -h, --help: this text.");
        return out.toString();
    }

    // ---- value parsers, worded to follow the key's name ----

    /**
     * {@code HOST:PORT}, {@code [IPv6]:PORT}, or {@code :PORT} (every IPv4 address; {@code [::]:PORT} is every
     * IPv6 and IPv4 address).
     *
     * @param text the address
     */
    public static HostPort hostPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0 || !text.matches("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9.\\-]*|[0-9A-Fa-f:.]+):\\d{1,5}")) {
            throw new IllegalArgumentException("must be HOST:PORT, got '" + text + "'");
        }
        String host = text.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(text.substring(colon + 1));
        if (port > 65_535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        return new HostPort(host.isEmpty() ? "0.0.0.0" : host, port);
    }

    /** A whole number within bounds. */
    public static Function<String, Long> number(long min, long max) {
        return bounded(min, max, "a whole number", "");
    }

    /** A duration in whole milliseconds within bounds. */
    public static Function<String, Duration> millis(long min, long max) {
        return bounded(min, max, "a number of ms", " ms").andThen(Duration::ofMillis);
    }

    private static Function<String, Long> bounded(long min, long max, String what, String unit) {
        return text -> {
            long n;
            try {
                n = Long.parseLong(text.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be " + what + ", got '" + text + "'");
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException("must be " + min + ".." + max + unit + ", got " + n);
            }
            return n;
        };
    }

    /** An {@code amqp://} or {@code amqps://} URL. */
    public static String brokerUrl(String text) {
        if (!text.startsWith("amqp://") && !text.startsWith("amqps://")) {
            throw new IllegalArgumentException("must be amqp://... or amqps://..., got '" + text + "'");
        }
        return text;
    }

    /** Text that is not empty. */
    public static String nonEmpty(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("must not be empty");
        }
        return text;
    }

    /** How logs are written. */
    public static LogFormat logFormat(String text) {
        return switch (text) {
            case "text" -> LogFormat.TEXT;
            case "json" -> LogFormat.JSON;
            default -> throw new IllegalArgumentException("must be text or json, got '" + text + "'");
        };
    }

    /** Comma-separated {@code KEY=VALUE} items, in order (a later item wins over an earlier one with its key). */
    public static Map<String, String> pairs(String text) {
        Map<String, String> pairs = new LinkedHashMap<>();
        for (String item : text.split(",")) {
            String pair = item.strip();
            if (pair.isEmpty()) {
                continue;
            }
            int at = pair.indexOf('=');
            if (at <= 0) {
                throw new IllegalArgumentException("must be KEY=VALUE items, got '" + pair + "'");
            }
            pairs.put(pair.substring(0, at).strip(), pair.substring(at + 1).strip());
        }
        return pairs;
    }
}
