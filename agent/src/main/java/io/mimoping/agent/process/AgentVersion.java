package io.mimoping.agent.process;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build of mimoping, as the agent announces it to its hub. */
public final class AgentVersion {

    private static final String VERSION = load();

    private AgentVersion() {
    }

    /** The build's version, e.g. {@code 0.1.0-SNAPSHOT}; {@code unknown} if the build did not record it. */
    public static String current() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = AgentVersion.class.getResourceAsStream("mimoping-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "").strip();
            return version.isEmpty() || version.startsWith("${") ? "unknown" : version;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
