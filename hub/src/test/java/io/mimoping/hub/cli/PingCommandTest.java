package io.mimoping.hub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.lab.Behaviour;
import io.mimoping.agent.lab.ImpairmentLab;
import io.mimoping.hub.task.TaskRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

class PingCommandTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What one run printed and returned. */
    private record Run(int status, String out, String err) {
        List<JsonNode> events() throws IOException {
            assertTrue(out.endsWith("\n"), "stdout ends with a whole line: " + out);
            List<JsonNode> events = new ArrayList<>();
            for (String line : out.split("\n")) {
                JsonNode event = JSON.readTree(line);
                assertTrue(event.isObject() && event.has("type") && event.has("data") && event.has("metadata"), line);
                events.add(event);
            }
            return events;
        }

        List<String> types() throws IOException {
            return events().stream().map(e -> e.get("type").asText()).toList();
        }

        JsonNode last() throws IOException {
            return events().getLast();
        }
    }

    private static Run run(InputStream stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = PingCommand.run(args, stdin, out, errStream);
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Run run(String... args) {
        return run(InputStream.nullInputStream(), args);
    }

    @Test
    void pingsLoopbackOverBothFamilies() throws IOException {
        Run run = run("-c", "2", "-i", "50", "127.0.0.1", "::1");
        assertEquals(0, run.status(), "every target answered; stderr: " + run.err());
        List<JsonNode> events = run.events();
        assertEquals("task", events.getFirst().get("type").asText());
        assertEquals(2, events.getFirst().get("data").get("count").asInt());
        assertEquals(50, events.getFirst().get("data").get("interval").asInt());
        assertEquals("end", run.last().get("type").asText());
        assertEquals(4, run.types().stream().filter("pkt_recv"::equals).count());
        assertEquals(2, run.types().stream().filter("ping_stats"::equals).count());
        JsonNode end = run.last().get("data");
        assertEquals(4, end.get("sent").asLong());
        assertEquals(4, end.get("received").asLong());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i, events.get(i).get("metadata").get("cursor").asLong());
        }
        assertEquals("", run.err(), "nothing to complain about");
    }

    @Test
    void unresolvableNameIsAnErrorEventAndExitTwo() throws IOException {
        Run run = run("-c", "1", "does-not-exist.invalid", "127.0.0.1");
        assertEquals(2, run.status(), "fping's status for a name not found; stderr: " + run.err());
        List<JsonNode> errors = run.events().stream().filter(e -> e.get("type").asText().equals("error")).toList();
        assertEquals(1, errors.size(), run.out());
        assertEquals("resolve_failed", errors.getFirst().get("data").get("code").asText());
        assertEquals("does-not-exist.invalid", errors.getFirst().get("data").get("target").asText());
        assertTrue(run.types().contains("pkt_recv"), "the other target is still pinged: " + run.out());
        assertEquals("end", run.last().get("type").asText());
        assertEquals(1, run.last().get("data").get("received").asLong());
        assertEquals(1, run.last().get("data").get("errors").asLong());
        assertEquals("mimoping ping: does-not-exist.invalid: the name did not resolve", run.err().strip(),
                "stderr says which name did not resolve, not that it did not answer");
        assertTrue(!run.err().contains("127.0.0.1"), "and only it: " + run.err());
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                argumentSet("no target", new String[]{"-c", "1"}, "target"),
                argumentSet("no arguments", new String[]{}, "target"),
                argumentSet("-c 0", new String[]{"-c", "0", "127.0.0.1"}, "-c"),
                argumentSet("-c x", new String[]{"-c", "x", "127.0.0.1"}, "-c"),
                argumentSet("-c 1.5", new String[]{"-c", "1.5", "127.0.0.1"}, "-c"),
                argumentSet("-c without a value", new String[]{"127.0.0.1", "-c"}, "-c"),
                argumentSet("-i 0", new String[]{"-i", "0", "127.0.0.1"}, "-i"),
                argumentSet("-W too long", new String[]{"-W", "999999999", "127.0.0.1"}, "-W"),
                argumentSet("-s 8", new String[]{"-s", "8", "127.0.0.1"}, "-s"),
                argumentSet("unknown option", new String[]{"-z", "127.0.0.1"}, "-z"),
                argumentSet("unknown long option", new String[]{"--count=3", "127.0.0.1"}, "--count=3"),
                argumentSet("bad target", new String[]{"127.0.0.1", "a b"}, "a b"),
                argumentSet("duplicate target", new String[]{"127.0.0.1", "127.0.0.1"}, "127.0.0.1"),
                argumentSet("missing file", new String[]{"-f", "/nonexistent/targets.txt"}, "/nonexistent/targets.txt"),
                argumentSet("unknown format", new String[]{"-o", "csv", "127.0.0.1"}, "csv"));
    }

    /**
     * {@code -o text} prints fping's {@code -c} lines: each reply and timeout as it comes with the running average
     * and loss, the summary per target on stderr at the end. One lab target answers every probe but the second,
     * whose reply never comes (its timeout, 100 ms, passes before the next probe leaves, 300 ms after it).
     */
    @Test
    void textOutputReadsAsFpings() {
        try (ImpairmentLab lab = ImpairmentLab.open(1)) {
            InetAddress target = lab.target(IcmpFamily.V4, 0);
            lab.behave(target, new Behaviour.Select(Set.of(1), new Behaviour.BlackHole(), Behaviour.echo()));
            String name = target.getHostAddress();
            Run run = run("-o", "text", "-c", "3", "-i", "300", "-W", "100", name, "127.0.0.1");
            assertEquals(0, run.status(), "every target answered, if not every probe; stderr: " + run.err());

            String rtt = "(\\d+\\.\\d{3})";
            List<String> lab0 = run.out().lines().filter(l -> l.startsWith(name + " :")).toList();
            assertEquals(3, lab0.size(), run.out());
            Matcher first = Pattern.compile(Pattern.quote(name) + " : \\[0\\], 64 bytes, " + rtt + " ms \\(" + rtt
                    + " avg, 0% loss\\)").matcher(lab0.get(0));
            assertTrue(first.matches(), lab0.get(0));
            assertEquals(first.group(1), first.group(2), "the average of one RTT is that RTT");
            assertTrue(lab0.get(1).matches(Pattern.quote(name) + " : \\[1\\], timed out \\(" + rtt + " avg, 50% loss\\)"),
                    lab0.get(1));
            assertTrue(lab0.get(2).matches(Pattern.quote(name) + " : \\[2\\], 64 bytes, " + rtt + " ms \\(" + rtt
                    + " avg, 33% loss\\)"), lab0.get(2));
            assertEquals(3, run.out().lines().filter(l -> l.startsWith("127.0.0.1 : [")).count(), run.out());

            List<String> summaries = run.err().lines().filter(l -> l.contains("xmt/rcv/%loss")).toList();
            assertEquals(2, summaries.size(), run.err());
            // in the order the targets were given, whichever finished first
            assertTrue(summaries.getFirst().matches(Pattern.quote(name) + " : xmt/rcv/%loss = 3/2/33%, min/avg/max = "
                    + rtt + "/" + rtt + "/" + rtt), summaries.getFirst());
            assertTrue(summaries.getLast().startsWith("127.0.0.1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = "),
                    summaries.getLast());
            assertEquals(List.of(), run.err().lines().filter(l -> !l.isEmpty() && !summaries.contains(l)).toList(),
                    "nothing but the summaries on stderr");
        }
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void usageErrorsExitTwoNamingTheCulprit(String[] args, String named) {
        Run run = run(args);
        assertEquals(3, run.status(), "fping's status for bad arguments; stderr: " + run.err());
        assertEquals("", run.out(), "no events for a refused command");
        String firstLine = run.err().lines().findFirst().orElse("");
        assertTrue(firstLine.startsWith("mimoping ping: "), run.err());
        assertTrue(firstLine.contains(named), "the message names '" + named + "': " + firstLine);
        assertTrue(run.err().contains("usage: mimoping ping"), "usage follows: " + run.err());
    }

    @Test
    void optionValuesMayBeAttached() throws IOException {
        Run run = run("-c2", "-i50", "-otext", "127.0.0.1");
        assertEquals(0, run.status(), run.err());
        assertEquals(2, run.out().lines().filter(l -> l.startsWith("127.0.0.1 : [")).count(), run.out());
    }

    /** Ctrl-C: the task ends as a client's cancel ends it, and what it measured is summed up, as fping does. */
    @Test
    void anInterruptedRunSumsUpWhatItMeasured() {
        TaskRunner.Cancellation interrupt = new TaskRunner.Cancellation();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread.ofVirtual().start(() -> {
            // interrupted once three replies are out (or after 10 s, when the test fails anyway)
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (out.toString(StandardCharsets.UTF_8).lines().count() < 3 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
            interrupt.cancel("interrupted");
        });
        int status = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> PingCommand.run(
                new String[]{"-o", "text", "-c", "1000", "-i", "50", "127.0.0.1"}, InputStream.nullInputStream(), out,
                new PrintStream(err, true, StandardCharsets.UTF_8), interrupt));
        String lines = out.toString(StandardCharsets.UTF_8);
        long replies = lines.lines().filter(l -> l.startsWith("127.0.0.1 : [")).count();
        assertTrue(replies >= 3 && replies < 1000, lines);
        assertTrue(lines.contains("error cancelled: interrupted"), lines);
        String summary = err.toString(StandardCharsets.UTF_8).strip();
        Matcher counts = Pattern.compile("127\\.0\\.0\\.1 : xmt/rcv/%loss = (\\d+)/(\\d+)/\\d+%, min/avg/max = .+")
                .matcher(summary);
        assertTrue(counts.matches(), summary);
        assertEquals(replies, Long.parseLong(counts.group(2)), "the replies printed: " + summary);
        long sent = Long.parseLong(counts.group(1));
        assertTrue(sent == replies || sent == replies + 1, "sent: the replies and a probe in flight at most: " + summary);
        assertEquals(0, status, "it answered");
    }

    /** {@code | head}: once its output is closed, the command stops pinging at once. */
    @Test
    void aClosedOutputStopsTheTask() {
        for (String format : List.of("ndjson", "text")) {
            OutputStream closedAfterALine = new OutputStream() {
                private int written;

                @Override
                public void write(int b) throws IOException {
                    if (++written > 1024) { // a few lines in: the task is running
                        throw new IOException("Broken pipe");
                    }
                }
            };
            // 100,000 probes 100 ms apart would take three hours
            int status = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> PingCommand.run(new String[]{"-o",
                    format, "-c", "100000", "-i", "100", "127.0.0.1"}, InputStream.nullInputStream(), closedAfterALine,
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)), format);
            assertEquals(PingCommand.OUTPUT_CLOSED, status, format);
        }
    }

    @Test
    void helpIsNotAnError() {
        Run run = run("-h");
        assertEquals(0, run.status());
        assertTrue(run.err().contains("usage: mimoping ping"), run.err());
        assertEquals("", run.out());
    }

    private static final String TARGET_LIST = """
            # loopback, both families
            127.0.0.1

              ::1   # with a comment after it
            \t
            # the end
            """;

    @Test
    void readsTargetsFromAFileSkippingCommentsAndBlankLines(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("targets.txt");
        Files.writeString(file, TARGET_LIST);
        Run run = run("-c", "1", "-f", file.toString());
        assertTargetsFromList(run);
    }

    @Test
    void readsTargetsFromStdin() throws IOException {
        Run run = run(new ByteArrayInputStream(TARGET_LIST.getBytes(StandardCharsets.UTF_8)), "-c", "1", "-f", "-");
        assertTargetsFromList(run);
    }

    @Test
    void fileTargetsAddToArguments(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("targets.txt");
        Files.writeString(file, "::1\n");
        Run run = run("-c", "1", "127.0.0.1", "-f", file.toString());
        assertEquals(0, run.status(), run.err());
        assertEquals(JSON.readTree("[\"127.0.0.1\",\"::1\"]"), run.events().getFirst().get("data").get("targets"));
    }

    @Test
    void anEmptyListIsAUsageError() {
        Run run = run(new ByteArrayInputStream("# nothing\n\n".getBytes(StandardCharsets.UTF_8)), "-f", "-");
        assertEquals(3, run.status(), run.err());
        assertTrue(run.err().contains("target"), run.err());
    }

    private static void assertTargetsFromList(Run run) throws IOException {
        assertEquals(0, run.status(), "stderr: " + run.err());
        assertEquals(JSON.readTree("[\"127.0.0.1\",\"::1\"]"), run.events().getFirst().get("data").get("targets"));
        assertEquals(2, run.last().get("data").get("received").asLong(), run.out());
    }

    /**
     * The real thing: root without CAP_NET_RAW in a fresh JVM. This host's ping_group_range ("1 0") refuses
     * datagram ICMP sockets too, so nothing may be sent and the command must say so.
     */
    @Test
    void withoutPermissionToSendIcmpExitsFourAndSaysWhy() throws Exception {
        Path setpriv = Path.of("/usr/bin/setpriv");
        assertTrue(Files.isExecutable(setpriv), "this test needs setpriv (util-linux) to drop CAP_NET_RAW");
        String range;
        // Not Files.readString: on this kernel it returns only "1" of procfs' "1\t0\n" (size 0, short reads).
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ping_group_range"))) {
            range = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
        String[] bounds = range.split("\\s+");
        assertTrue(Long.parseLong(bounds[0]) > Long.parseLong(bounds[1]),
                "the test expects datagram ICMP sockets to be refused (empty ping_group_range), got '" + range + "'");

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(setpriv.toString(), "--inh-caps=-net_raw", "--bounding-set=-net_raw",
                java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                PingCommand.class.getName(), "-c", "1", "127.0.0.1")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outReader = Thread.ofVirtual().start(() -> copy(process.getInputStream(), out));
        Thread errReader = Thread.ofVirtual().start(() -> copy(process.getErrorStream(), err));
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("the command did not finish within 60 s");
        }
        outReader.join();
        errReader.join();
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(4, process.exitValue(), "exit status; stderr: " + stderr);
        assertEquals("", out.toString(StandardCharsets.UTF_8), "no events when nothing can be sent");
        assertTrue(stderr.startsWith("mimoping ping: "), stderr);
        assertTrue(stderr.contains("no permission to send"), "says it plainly: " + stderr);
        assertTrue(stderr.contains("CAP_NET_RAW"), "names the capability: " + stderr);
        assertTrue(stderr.contains("ping_group_range"), "names the sysctl: " + stderr);
    }

    private static void copy(InputStream in, ByteArrayOutputStream to) {
        try (in) {
            in.transferTo(to);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
