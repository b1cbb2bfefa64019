package io.mimoping.agent.observe;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes each log record as one JSON object on one line, for log collectors:
 * {@code {"time":…,"level":…,"logger":…,"thread":…,"message":…}}, the process's own fields (such as
 * {@code "agent":"agent-1"}), {@code "task"} and {@code "agent"} when the message names them (mimoping's log
 * lines write {@code task ID} and {@code agent 'NAME'}), and {@code "exception"} with the stack trace when there is one.
 */
public final class JsonLogFormatter extends Formatter {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** How mimoping's messages name a task: {@code task 0123456789abcdef}. */
    private static final Pattern TASK = Pattern.compile("\\btask '?([0-9a-f]{8,64})\\b");
    /** How the hub's messages name an agent: {@code agent 'agent-1'}. */
    private static final Pattern AGENT = Pattern.compile("\\bagent '([^']{1,64})'");

    private final Map<String, String> fields;

    /** @param fields added to every line, such as the agent's name */
    public JsonLogFormatter(Map<String, String> fields) {
        this.fields = Map.copyOf(fields);
    }

    /** Switches every handler of the root logger to this format. */
    public static void install(Map<String, String> fields) {
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler handler : root.getHandlers()) {
            handler.setFormatter(new JsonLogFormatter(fields));
        }
    }

    @Override
    public String format(LogRecord record) {
        String message = formatMessage(record);
        ObjectNode line = JSON.createObjectNode()
                .put("time", record.getInstant().toString())
                .put("level", record.getLevel().getName())
                .put("logger", record.getLoggerName())
                .put("thread", Thread.currentThread().getName())
                .put("message", message);
        fields.forEach(line::put);
        Matcher task = TASK.matcher(message);
        if (task.find()) {
            line.put("task", task.group(1));
        }
        Matcher agent = AGENT.matcher(message);
        if (!fields.containsKey("agent") && agent.find()) {
            line.put("agent", agent.group(1));
        }
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.put("exception", trace.toString());
        }
        return line + System.lineSeparator();
    }
}
