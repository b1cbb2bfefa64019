package io.mimoping.hub.task;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

class TaskRequestParserTest {

    private final TaskRequestParser parser = new TaskRequestParser();

    private TaskRequest parse(String body) {
        return parser.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    /** A JSON array of n distinct loopback addresses. */
    private static String loopbacks(int n) {
        return IntStream.range(0, n)
                .mapToObj(i -> "\"127.0." + (i / 250) + "." + (i % 250 + 1) + "\"")
                .collect(Collectors.joining(",", "[", "]"));
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                argumentSet("invalid JSON", "{\"targets\":[\"127.0.0.1\"", "invalid_json", null),
                argumentSet("not JSON at all", "targets=127.0.0.1", "invalid_json", null),
                argumentSet("trailing garbage", "{\"targets\":[\"127.0.0.1\"]} x", "invalid_json", null),
                argumentSet("two objects", "{\"targets\":[\"127.0.0.1\"]}{}", "invalid_json", null),
                argumentSet("empty body", "", "invalid_json", null),
                argumentSet("blank body", " \r\n\t", "invalid_json", null),
                argumentSet("array body", "[\"127.0.0.1\"]", "invalid_type", null),
                argumentSet("string body", "\"127.0.0.1\"", "invalid_type", null),
                argumentSet("number body", "42", "invalid_type", null),
                argumentSet("null body", "null", "invalid_type", null),
                argumentSet("unknown field", "{\"targets\":[\"127.0.0.1\"],\"colour\":\"red\"}", "unknown_field", "colour"),
                argumentSet("seed-like typo", "{\"target\":[\"127.0.0.1\"]}", "unknown_field", "target"),
                argumentSet("duplicate key", "{\"targets\":[\"127.0.0.1\"],\"count\":1,\"count\":2}", "duplicate_field", "count"),
                argumentSet("missing targets", "{\"count\":3}", "missing_field", "targets"),
                argumentSet("null targets", "{\"targets\":null}", "missing_field", "targets"),
                argumentSet("targets a string", "{\"targets\":\"127.0.0.1\"}", "invalid_type", "targets"),
                argumentSet("targets an object", "{\"targets\":{\"a\":\"127.0.0.1\"}}", "invalid_type", "targets"),
                argumentSet("empty targets", "{\"targets\":[]}", "out_of_range", "targets"),
                argumentSet("10,001 targets", "{\"targets\":" + loopbacks(10_001) + "}", "out_of_range", "targets"),
                argumentSet("a number as target", "{\"targets\":[\"127.0.0.1\",1]}", "invalid_type", "targets[1]"),
                argumentSet("null as target", "{\"targets\":[null]}", "invalid_type", "targets[0]"),
                argumentSet("target with a space", "{\"targets\":[\"127.0.0.1\",\"::1\",\"a b\"]}", "invalid_value", "targets[2]"),
                argumentSet("empty target", "{\"targets\":[\"\"]}", "invalid_value", "targets[0]"),
                argumentSet("target with a newline", "{\"targets\":[\"a\\nb\"]}", "invalid_value", "targets[0]"),
                argumentSet("target of 254 characters", "{\"targets\":[\"" + "a".repeat(254) + "\"]}", "invalid_value", "targets[0]"),
                argumentSet("duplicate target", "{\"targets\":[\"127.0.0.1\",\"::1\",\"127.0.0.1\"]}", "duplicate_value", "targets[2]"),
                argumentSet("count 0", "{\"targets\":[\"127.0.0.1\"],\"count\":0}", "out_of_range", "count"),
                argumentSet("count -1", "{\"targets\":[\"127.0.0.1\"],\"count\":-1}", "out_of_range", "count"),
                argumentSet("count 100,001", "{\"targets\":[\"127.0.0.1\"],\"count\":100001}", "out_of_range", "count"),
                argumentSet("count beyond a long", "{\"targets\":[\"127.0.0.1\"],\"count\":99999999999999999999}", "out_of_range", "count"),
                argumentSet("count \"3\"", "{\"targets\":[\"127.0.0.1\"],\"count\":\"3\"}", "invalid_type", "count"),
                argumentSet("count 1.5", "{\"targets\":[\"127.0.0.1\"],\"count\":1.5}", "invalid_type", "count"),
                argumentSet("count true", "{\"targets\":[\"127.0.0.1\"],\"count\":true}", "invalid_type", "count"),
                argumentSet("interval 0", "{\"targets\":[\"127.0.0.1\"],\"interval\":0}", "out_of_range", "interval"),
                argumentSet("interval over an hour", "{\"targets\":[\"127.0.0.1\"],\"interval\":3600001}", "out_of_range", "interval"),
                argumentSet("interval \"1s\"", "{\"targets\":[\"127.0.0.1\"],\"interval\":\"1s\"}", "invalid_type", "interval"),
                argumentSet("timeout 0", "{\"targets\":[\"127.0.0.1\"],\"timeout\":0}", "out_of_range", "timeout"),
                argumentSet("timeout over 2 minutes", "{\"targets\":[\"127.0.0.1\"],\"timeout\":120001}", "out_of_range", "timeout"),
                argumentSet("size 15", "{\"targets\":[\"127.0.0.1\"],\"size\":15}", "out_of_range", "size"),
                argumentSet("size 65,001", "{\"targets\":[\"127.0.0.1\"],\"size\":65001}", "out_of_range", "size"),
                argumentSet("from a string", "{\"from\":\"hub\",\"targets\":[\"127.0.0.1\"]}", "invalid_type", "from"),
                argumentSet("from a number in the list", "{\"from\":[\"hub\",7],\"targets\":[\"127.0.0.1\"]}", "invalid_type", "from[1]"),
                argumentSet("agent name with a space", "{\"from\":[\"agent x\"],\"targets\":[\"127.0.0.1\"]}", "invalid_value", "from[0]"),
                argumentSet("agent name starting with '-'", "{\"from\":[\"hub\",\"-x\"],\"targets\":[\"127.0.0.1\"]}", "invalid_value", "from[1]"),
                argumentSet("agent name of 65 characters", "{\"from\":[\"" + "a".repeat(65) + "\"],\"targets\":[\"127.0.0.1\"]}", "invalid_value", "from[0]"),
                argumentSet("duplicate agent", "{\"from\":[\"a1\",\"a1\"],\"targets\":[\"127.0.0.1\"]}", "duplicate_value", "from[1]"),
                argumentSet("targets x count over 10M", "{\"targets\":" + loopbacks(10_000) + ",\"count\":1001}", "out_of_range", "count"));
    }

    @ParameterizedTest
    @MethodSource("badRequests")
    void refusesBadRequestNamingCodeAndField(String body, String code, String field) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> parse(body));
        assertAll(
                () -> assertEquals(code, e.code(), "code; message: " + e.getMessage()),
                () -> assertEquals(field, e.field(), "field; message: " + e.getMessage()),
                () -> assertNotNull(e.getMessage()),
                () -> assertFalse(e.getMessage().isBlank(), "a message a person can act on"),
                () -> assertFalse(e.getMessage().chars().anyMatch(Character::isISOControl),
                        "no control characters echoed back: " + e.getMessage()));
        if (field != null) {
            String name = field.replaceAll("\\[.*", "");
            assertTrue(e.getMessage().contains(name), "message names the field '" + name + "': " + e.getMessage());
        }
    }

    /** What is wrong with the JSON and where, in words for the client, not the parser's advice to programmers. */
    @ParameterizedTest
    @ValueSource(strings = {"{\"targets\":[\"127.0.0.1\"],\"count\":NaN}", "{\"targets\":[\"127.0.0.1\"",
            "{\"targets\":['127.0.0.1']}", "{\"targets\":[\"127.0.0.1\"]} x", "{\"targets\":[\"127.0.0.1\"]} {}",
            "// a comment\n{\"targets\":[\"127.0.0.1\"]}"})
    void notJsonSaysWhereWithoutTheParsersInternals(String body) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> parse(body));
        assertEquals("invalid_json", e.code(), e.getMessage());
        assertTrue(e.getMessage().matches("the body is not valid JSON: .+ \\(line \\d, column \\d+\\)"), e.getMessage());
        for (String internal : List.of("Source:", "Feature", "enable", "REDACTED", "`", "com.fasterxml")) {
            assertFalse(e.getMessage().contains(internal), internal + " in: " + e.getMessage());
        }
    }

    @Test
    void duplicateKeyInsideAValueIsNotBlamedOnAField() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> parse("{\"targets\":[{\"a\":1,\"a\":2}]}"));
        assertEquals("invalid_json", e.code(), e.getMessage());
        assertEquals(null, e.field());
    }

    @Test
    void outOfRangeMessagesGiveTheBoundsAndTheValue() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> parse("{\"targets\":[\"127.0.0.1\"],\"count\":100001}"));
        assertTrue(e.getMessage().contains("100000") && e.getMessage().contains("100001"), e.getMessage());
    }

    @Test
    void fillsInDefaults() {
        TaskRequest request = parse("{\"targets\":[\"127.0.0.1\",\"::1\",\"localhost\"]}");
        assertEquals(List.of(TaskRequest.HUB), request.from(), "no from: the hub itself, filled in");
        assertEquals(List.of("127.0.0.1", "::1", "localhost"), request.targets(), "targets kept as written, in order");
        assertEquals(Duration.ofMillis(1000), request.interval());
        assertEquals(3, request.count());
        assertEquals(Duration.ofMillis(10_000), request.timeout());
        assertEquals(56, request.size());
        assertTrue(request.from().contains(TaskRequest.HUB), "no 'from' means the hub pings itself");
        assertEquals(List.of(), request.agents());
    }

    @Test
    void nullFieldsMeanTheirDefaults() {
        TaskRequest request = parse("{\"from\":null,\"targets\":[\"127.0.0.1\"],\"interval\":null,\"count\":null,"
                + "\"timeout\":null,\"size\":null}");
        assertEquals(parse("{\"targets\":[\"127.0.0.1\"]}"), request);
    }

    @Test
    void keepsGivenValues() {
        TaskRequest request = parse("{\"from\":[\"hub\",\"agent-1\"],\"targets\":[\"::1\"],\"interval\":200,"
                + "\"count\":5,\"timeout\":1500,\"size\":100}");
        assertEquals(List.of("hub", "agent-1"), request.from());
        assertEquals(Duration.ofMillis(200), request.interval());
        assertEquals(5, request.count());
        assertEquals(Duration.ofMillis(1500), request.timeout());
        assertEquals(100, request.size());
        assertTrue(request.from().contains(TaskRequest.HUB));
        assertEquals(List.of("agent-1"), request.agents());
    }

    @Test
    void acceptsTheLargestRequest() {
        String agents = IntStream.range(0, 1_000).mapToObj(i -> "\"agent-" + i + "\"")
                .collect(Collectors.joining(",", "[", "]"));
        String body = "{\"from\":" + agents + ",\"targets\":" + loopbacks(10_000) + ",\"count\":1000,"
                + "\"interval\":3600000,\"timeout\":120000,\"size\":65000}";
        TaskRequest request = parse(body);
        assertEquals(1_000, request.from().size());
        assertEquals(10_000, request.targets().size());
        assertEquals(1_000, request.count(), "10,000 targets x 1,000 probes is exactly the 10M limit");
        assertEquals(Duration.ofHours(1), request.interval());
        assertEquals(Duration.ofMinutes(2), request.timeout());
        assertEquals(65_000, request.size());
        assertFalse(request.from().contains(TaskRequest.HUB), "agents named, hub not among them");
    }

    @Test
    void acceptsTheSmallestValues() {
        TaskRequest request = parse("{\"targets\":[\"127.0.0.1\"],\"count\":1,\"interval\":1,\"timeout\":1,\"size\":16}");
        assertEquals(1, request.count());
        assertEquals(Duration.ofMillis(1), request.interval());
        assertEquals(Duration.ofMillis(1), request.timeout());
        assertEquals(16, request.size());
    }

    @Test
    void acceptsTheTargetsPeopleWrite() {
        List<String> targets = List.of("127.0.0.1", "::1", "fe80::1%lo", "localhost", "host-1.example.org",
                "_srv.example.org", "2001:db8::ffff:192.0.2.1", "a".repeat(253));
        String body = targets.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(",", "{\"targets\":[", "]}"));
        assertEquals(targets, parse(body).targets());
    }

    @Test
    void acceptsWhitespaceAroundTheObject() {
        assertEquals(List.of("127.0.0.1"), parse("\n  {\"targets\": [\"127.0.0.1\"]}\n").targets());
    }
}
