package io.mimoping.bridge.probe;

import java.util.regex.Pattern;

/** The one rule for naming pinging sides: agent names in {@code from}, at registration and on the broker. */
public final class AgentNames {

    /** The name of the hub's own pinging side, which no agent may take. */
    public static final String HUB = "hub";
    /** Letters, digits, '.', '_', '-'; at most 64, starting with a letter or digit. */
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}");
    /** The rule in words, for error messages. */
    public static final String RULE = "letters, digits, '.', '_', '-', at most 64, starting with a letter or digit";

    private AgentNames() {
    }

    /** Whether an agent may take this name: it follows {@link #PATTERN} and is not {@value #HUB}. */
    public static boolean isValidAgent(String name) {
        return PATTERN.matcher(name).matches() && !name.equals(HUB);
    }
}
