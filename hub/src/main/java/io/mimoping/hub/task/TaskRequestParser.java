package io.mimoping.hub.task;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.bridge.probe.AgentNames;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns a task request in JSON (a {@code POST /ping-task} body, or what {@code mimoping ping} builds from
 * its options) into a {@link TaskRequest}, or refuses it naming the field at fault. Every limit and default
 * lives here.
 */
public final class TaskRequestParser {

    static final int MAX_TARGETS = 10_000;
    static final int MAX_AGENTS = 1_000;
    static final int MAX_COUNT = 100_000;
    static final long MAX_PROBES = 10_000_000;
    static final int MAX_INTERVAL_MS = 3_600_000;
    static final int MAX_TIMEOUT_MS = 120_000;
    static final int MIN_SIZE = 16;
    static final int MAX_SIZE = 65_000;
    static final int DEFAULT_INTERVAL_MS = 1_000;
    static final int DEFAULT_COUNT = 3;
    static final int DEFAULT_TIMEOUT_MS = 10_000;
    static final int DEFAULT_SIZE = 56;

    private static final Set<String> FIELDS = Set.of("from", "targets", "interval", "count", "timeout", "size");
    /** Host names (RFC 1123 labels, '_' tolerated), IPv4 and IPv6 literals, IPv6 zone ids. */
    private static final Pattern TARGET = Pattern.compile("[A-Za-z0-9._:%\\-]{1,253}");

    /** Parser buffers shared by all requests (each on a virtual thread of its own; see EventWriter's JSON). */
    private final JsonMapper json = JsonMapper.builder(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * The parser's complaint, for the client: without its advice to Java programmers (which feature to enable)
     * or its source descriptions, with where it stopped.
     */
    private static InvalidRequestException notJson(JacksonException e) {
        String problem = e.getOriginalMessage()
                .replaceAll(":? ?enable `[^`]*` to allow", "")
                .replaceAll("\\s*\\(start marker at \\[Source: [^]]*]\\)", "")
                .replaceAll("\\s*\\[Source: [^]]*]", "")
                .replaceAll("\\s*\\(bound as `[^`]*`\\): not allowed as per `[^`]*`", "")
                .replaceAll("maybe a \\(non-standard\\) comment\\? \\(not recognized as one since Feature '[^']*' not"
                        + " enabled for parser\\)", "a comment, which JSON does not allow")
                .strip();
        JsonLocation at = e.getLocation();
        String where = at == null || at.getLineNr() < 1 ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
        return new InvalidRequestException("invalid_json", null, "the body is not valid JSON: " + problem + where);
    }

    /** Parses and checks a JSON request body. */
    public TaskRequest parse(byte[] body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (StreamReadException e) {
            String duplicate = duplicateKey(e);
            if (duplicate != null) {
                throw new InvalidRequestException("duplicate_field", duplicate, "field '" + duplicate
                        + "' appears more than once");
            }
            throw notJson(e);
        } catch (JacksonException e) {
            throw notJson(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || root.isMissingNode()) {
            throw new InvalidRequestException("invalid_json", null, "the body is empty: send a JSON object such as"
                    + " {\"targets\":[\"127.0.0.1\"]}");
        }
        if (!root.isObject()) {
            throw new InvalidRequestException("invalid_type", null, "the body must be a JSON object, got " + kind(root));
        }
        for (Map.Entry<String, JsonNode> property : root.properties()) {
            String name = property.getKey();
            if (!FIELDS.contains(name)) {
                throw new InvalidRequestException("unknown_field", name, "unknown field '" + name + "'; known fields: "
                        + "from, targets, interval, count, timeout, size");
            }
        }
        List<String> from = strings(root, "from", false, 0, MAX_AGENTS, AgentNames.PATTERN, "an agent name (letters, digits, '.', '_', '-'; at most 64)");
        List<String> targets = strings(root, "targets", true, 1, MAX_TARGETS, TARGET, "a host name or IP address");
        int interval = integer(root, "interval", DEFAULT_INTERVAL_MS, 1, MAX_INTERVAL_MS);
        int count = integer(root, "count", DEFAULT_COUNT, 1, MAX_COUNT);
        int timeout = integer(root, "timeout", DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS);
        int size = integer(root, "size", DEFAULT_SIZE, MIN_SIZE, MAX_SIZE);
        if ((long) targets.size() * count > MAX_PROBES) {
            throw new InvalidRequestException("out_of_range", "count", "targets x count must be at most " + MAX_PROBES
                    + " probes per task, got " + targets.size() + " x " + count);
        }
        return new TaskRequest(from.isEmpty() ? List.of(TaskRequest.HUB) : from, targets, Duration.ofMillis(interval), count, Duration.ofMillis(timeout), size);
    }

    /**
     * The repeated key when strict duplicate detection refused the body (still valid JSON by RFC 8259, so the
     * field is named rather than the body called broken), else {@code null}: a key repeated in a nested object
     * names no field of the request.
     */
    private static String duplicateKey(StreamReadException e) {
        if (e.getOriginalMessage() == null || !e.getOriginalMessage().startsWith("Duplicate field ")
                || !(e.getProcessor() instanceof JsonParser parser)) {
            return null;
        }
        JsonStreamContext context = parser.getParsingContext();
        boolean topLevel = context.inObject() && context.getParent() != null && context.getParent().inRoot();
        return topLevel ? context.getCurrentName() : null;
    }

    private static List<String> strings(JsonNode root, String field, boolean required, int min, int max,
                                        Pattern pattern, String what) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                throw new InvalidRequestException("missing_field", field, "'" + field + "' is required: a list of at least "
                        + min + ", each " + what);
            }
            return List.of();
        }
        if (!node.isArray()) {
            throw new InvalidRequestException("invalid_type", field, "'" + field + "' must be an array of strings, got " + kind(node));
        }
        if (node.size() < min) {
            throw new InvalidRequestException("out_of_range", field, "'" + field + "' must not be empty");
        }
        if (node.size() > max) {
            throw new InvalidRequestException("out_of_range", field, "'" + field + "' may hold at most " + max
                    + " entries, got " + node.size());
        }
        List<String> values = new ArrayList<>(node.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            String at = field + "[" + i + "]";
            if (!item.isTextual()) {
                throw new InvalidRequestException("invalid_type", at, "'" + at + "' must be a string, got " + kind(item));
            }
            String value = item.asText();
            if (!pattern.matcher(value).matches()) {
                throw new InvalidRequestException("invalid_value", at, "'" + at + "' is not " + what + ": \"" + printable(value) + "\"");
            }
            if (!seen.add(value)) {
                throw new InvalidRequestException("duplicate_value", at, "'" + at + "' repeats \"" + value + "\"");
            }
            values.add(value);
        }
        return values;
    }

    private static int integer(JsonNode root, String field, int defaultValue, int min, int max) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isIntegralNumber()) {
            throw new InvalidRequestException("invalid_type", field, "'" + field + "' must be a whole number, got " + kind(node));
        }
        if (!node.canConvertToLong() || node.asLong() < min || node.asLong() > max) {
            throw new InvalidRequestException("out_of_range", field, "'" + field + "' must be between " + min + " and " + max
                    + ", got " + node.asText());
        }
        return node.asInt();
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string (\"" + printable(node.asText()) + "\")";
            case NUMBER -> "the number " + node.asText();
            case BOOLEAN -> "a boolean (" + node.asText() + ")";
            case NULL -> "null";
            case BINARY, MISSING -> "nothing";
        };
    }

    private static String printable(String value) {
        String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
        return shown.replaceAll("\\p{Cntrl}", "?");
    }
}
