package io.mimoping.hub.bench;

import io.mimoping.hub.bench.TaskStreams.Transport;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code mimoping bench soak}: a hub and 2 agents (processes of their own, over the real RabbitMQ) run one background
 * task of loopback targets at 1 Hz from both agents and the hub for {@code --duration}, while stream clients
 * (SSE, long-poll, WebSocket, {@code /ping-task}) join and leave. Every {@code --sample} seconds it reads each
 * process's RSS and open fds. Prints, per process, the figures at the end of the warm-up and at the end (goal: flat,
 * within 5 %), and whether every probe of the task came out of its stream (goal: 0 lost).
 */
public final class SoakBench {

    static final String USAGE = """
            usage: mimoping bench soak [OPTIONS]
              --duration D            how long the task runs: 90s, 30m, 1h (default 30m)
              --warm-up D             excluded from the flatness figures (default a fifth of --duration, at most 5m)
              --targets N             loopback targets, spread over 127.0.0.0/8 (default 1000)
              --sample S              seconds between two samples of RSS and fds (default 10)
              --clients N             stream clients at any time, each staying 2 to 10 s (default 20)
              --rabbitmq-broker-url URL   (default amqp://guest:guest@127.0.0.1:5672/)
            """;

    /** RSS and fds may move this much after the warm-up and still count as flat. */
    static final double FLAT_PERCENT = 5;

    private static final Pattern COUNT = Pattern.compile("\"(sent|received|timeouts|errors)\":(\\d+)");
    private static final Pattern CODE = Pattern.compile("\"code\":\"([a-z_]+)\"");
    private static final Pattern MESSAGE = Pattern.compile("\"message\":\"((?:[^\"\\\\]|\\\\.)*)\"");

    private SoakBench() {
    }

    /** The flags, with their defaults. */
    record Options(Duration duration, Duration warmUp, int targets, Duration sample, int clients, String broker) {

        static Options parse(String... args) {
            Duration duration = Duration.ofMinutes(30);
            Duration warmUp = null;
            int targets = 1000;
            Duration sample = Duration.ofSeconds(10);
            int clients = 20;
            String broker = "amqp://guest:guest@127.0.0.1:5672/";
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : "";
                switch (args[i]) {
                    case "--duration" -> duration = duration(value);
                    case "--warm-up" -> warmUp = duration(value);
                    case "--targets" -> targets = Integer.parseInt(value);
                    case "--sample" -> sample = Duration.ofSeconds(Integer.parseInt(value));
                    case "--clients" -> clients = Integer.parseInt(value);
                    case "--rabbitmq-broker-url" -> broker = value;
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
                i++;
            }
            if (warmUp == null) {
                warmUp = duration.dividedBy(5).compareTo(Duration.ofMinutes(5)) > 0 ? Duration.ofMinutes(5)
                        : duration.dividedBy(5);
            }
            if (warmUp.compareTo(duration) >= 0 || targets < 1 || clients < 0 || sample.isZero()) {
                throw new IllegalArgumentException("need --warm-up < --duration, --targets >= 1, --sample >= 1 s");
            }
            return new Options(duration, warmUp, targets, sample, clients, broker);
        }

        /** {@code 90s}, {@code 30m}, {@code 1h}, or seconds. */
        static Duration duration(String text) {
            Matcher m = Pattern.compile("(\\d+)([smh]?)").matcher(text);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a duration (90s, 30m, 1h): '" + text + "'");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
    }

    /** One process's RSS and fds at the end of the warm-up and at the end. */
    record Growth(String process, long pid, long rssWarmKiB, long rssEndKiB, int fdsWarm, int fdsEnd) {

        double rssPercent() {
            return percent(rssWarmKiB, rssEndKiB);
        }

        double fdsPercent() {
            return percent(fdsWarm, fdsEnd);
        }

        boolean flat() {
            return Math.abs(rssPercent()) <= FLAT_PERCENT && Math.abs(fdsPercent()) <= FLAT_PERCENT;
        }

        private static double percent(double from, double to) {
            return from == 0 ? 0 : (to - from) * 100 / from;
        }
    }

    /** What the soak found: per process growth, and the task's probes expected and accounted for. */
    record Report(List<Growth> growth, long expected, long outcomes, Map<String, Long> errors,
                  Map<String, String> firstErrors, String end, Map<String, Long> clientsJoined, long clientFailures) {

        long lost() {
            return expected - outcomes;
        }

        boolean ok() {
            return lost() == 0 && growth.stream().allMatch(Growth::flat);
        }
    }

    public static void main(String[] args) throws Exception {
        Optional<Options> parsed = BenchArgs.parse("soak", USAGE, args, Options::parse);
        if (parsed.isEmpty()) {
            return;
        }
        Options options = parsed.get();
        Report report = run(options, System.out, System.err);
        System.out.println("command: ./mimoping bench soak " + String.join(" ", args));
        System.exit(report.ok() ? 0 : 1);
    }

    /** Runs the soak; prints the table to {@code out} and a progress line each sample to {@code progress}. */
    static Report run(Options options, PrintStream out, PrintStream progress) throws Exception {
        String run = "soak-" + Long.toHexString(System.nanoTime());
        long seconds = options.duration().toSeconds();
        out.printf(Locale.ROOT, "soak: hub + 2 agents, %d loopback targets from both agents and the hub at 1 Hz for %d s"
                        + " (warm-up %d s), %d stream clients joining and leaving, RSS and fds every %d s%n",
                options.targets(), seconds, options.warmUp().toSeconds(), options.clients(), options.sample().toSeconds());
        List<JavaProcess> processes = new ArrayList<>();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            JavaProcess hub = JavaProcess.hub(List.of(), List.of(), List.of("--rabbitmq-broker-url", options.broker()));
            processes.add(hub);
            int port = hub.port(Duration.ZERO);
            List<String> from = new ArrayList<>();
            for (int a = 1; a <= 2; a++) {
                String name = run + "-agent-" + a;
                processes.add(JavaProcess.start("agent-" + a, List.of(), List.of(), "io.mimoping.agent.process.AgentMain",
                        List.of("--node-name", name, "--addr", "127.0.0.1:" + port, "--rabbitmq-broker-url",
                                options.broker(), "--control-addr", "127.0.0.1:0")));
                from.add(name);
            }
            TaskStreams streams = new TaskStreams(http, port);
            awaitAgents(streams, port, from, processes);
            from.add("hub");
            String id = streams.start("{\"from\":" + json(from) + ",\"targets\":" + json(targets(options.targets()))
                    + ",\"interval\":1000,\"timeout\":2000,\"count\":" + seconds + "}");
            long expected = (long) from.size() * options.targets() * seconds;
            Accounting accounting = new Accounting(http, port, id);
            Thread reader = Thread.ofPlatform().name("soak-accounting").start(accounting);
            Churn churn = new Churn(streams, port, id, accounting.cursor, options.clients());
            Thread churning = Thread.ofVirtual().start(churn);
            long start = System.nanoTime();
            long warmEnd = start + options.warmUp().toNanos();
            long[][] warm = null;
            long[][] last = sample(processes);
            long deadline = start + options.duration().plusSeconds(60).toNanos();
            while (reader.isAlive() && System.nanoTime() - deadline < 0) {
                reader.join(options.sample().toMillis());
                last = sample(processes);
                if (warm == null && System.nanoTime() - warmEnd >= 0) {
                    warm = last;
                }
                progress.printf(Locale.ROOT, "  %4d s  outcomes %d/%d  %s%n",
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), accounting.outcomes.sum(), expected,
                        describe(processes, last));
            }
            churn.stop();
            churning.join(30_000);
            if (warm == null) {
                warm = last;
            }
            List<Growth> growth = new ArrayList<>();
            for (int p = 0; p < processes.size(); p++) {
                growth.add(new Growth(processes.get(p).name(), processes.get(p).pid(), warm[p][0], last[p][0],
                        (int) warm[p][1], (int) last[p][1]));
            }
            Report report = new Report(growth, expected, accounting.outcomes.sum(), new TreeMap<>(accounting.errors),
                    new TreeMap<>(accounting.firstMessages), accounting.end, new TreeMap<>(churn.joined), churn.failures.sum());
            print(report, out);
            reader.interrupt();
            return report;
        } finally {
            for (JavaProcess process : processes.reversed()) {
                process.close();
            }
        }
    }

    private static void print(Report report, PrintStream out) {
        out.printf("%-8s %8s %12s %10s %9s %10s %8s %9s  %s%n", "process", "pid", "RSS warm-up", "RSS end", "change",
                "fds warm-up", "fds end", "change", "flat (+-" + (int) FLAT_PERCENT + " %)");
        for (Growth g : report.growth()) {
            out.printf(Locale.ROOT, "%-8s %8d %8.0f MiB %6.0f MiB %+8.1f%% %10d %8d %+8.1f%%  %s%n", g.process(), g.pid(),
                    g.rssWarmKiB() / 1024.0, g.rssEndKiB() / 1024.0, g.rssPercent(), g.fdsWarm(), g.fdsEnd(),
                    g.fdsPercent(), g.flat() ? "ok" : "FAIL");
        }
        out.printf(Locale.ROOT, "results: expected %d, received %d (pkt_recv + pkt_timeout), lost %d  %s%n",
                report.expected(), report.outcomes(), report.lost(), report.lost() == 0 ? "ok" : "FAIL");
        out.println("errors in the stream: " + (report.errors().isEmpty() ? "none"
                : report.errors() + ", the first of each: " + report.firstErrors()));
        out.println("end: " + report.end());
        out.println("clients joined and left: " + report.clientsJoined() + ", failed: " + report.clientFailures());
    }

    /**
     * Waits until a one-probe task from every agent comes back without an error: listed in {@code /conns} is not
     * enough, a task sent then may still find an agent's queue without its consumer ({@code agent_offline}).
     */
    private static void awaitAgents(TaskStreams streams, int port, List<String> names, List<JavaProcess> processes)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            String conns = streams.get("/conns", Duration.ofSeconds(5));
            if (names.stream().allMatch(n -> conns.contains("\"" + n + "\"")) && served(port, names)) {
                return;
            }
            for (JavaProcess process : processes) {
                if (!process.alive() || System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("the agents did not register within 60 s; logs: "
                            + processes.stream().map(p -> p.log().toString()).toList());
                }
            }
            Thread.sleep(100);
        }
    }

    private static boolean served(int port, List<String> agents) throws IOException {
        try (StreamingPost post = new StreamingPost(port, "/ping-task",
                "{\"from\":" + json(agents) + ",\"targets\":[\"127.0.0.1\"],\"count\":1,\"timeout\":2000}")) {
            boolean errors = false;
            for (String line = post.readLine(); line != null; line = post.readLine()) {
                errors |= line.startsWith("{\"type\":\"error\"");
            }
            return !errors;
        }
    }

    /** {@code n} loopback addresses spread over 127.0.0.0/8: 127.(1-250).(0-...).(1-253). */
    static List<String> targets(int n) {
        List<String> targets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            targets.add("127." + (1 + i % 250) + "." + (i / 250) + "." + (1 + i % 253));
        }
        return targets;
    }

    private static String json(List<String> strings) {
        StringJoiner list = new StringJoiner("\",\"", "[\"", "\"]");
        strings.forEach(list::add);
        return list.toString();
    }

    private static long[][] sample(List<JavaProcess> processes) throws IOException {
        long[][] values = new long[processes.size()][];
        for (int p = 0; p < processes.size(); p++) {
            values[p] = new long[]{processes.get(p).rssKiB(), processes.get(p).fds()};
        }
        return values;
    }

    private static String describe(List<JavaProcess> processes, long[][] values) {
        StringJoiner line = new StringJoiner("  ");
        for (int p = 0; p < processes.size(); p++) {
            line.add(String.format(Locale.ROOT, "%s %.0f MiB %d fds", processes.get(p).name(), values[p][0] / 1024.0,
                    values[p][1]));
        }
        return line.toString();
    }

    /** Reads the whole task over SSE from cursor 0 and counts its outcomes: every probe must come out. */
    private static final class Accounting implements Runnable {

        final LongAdder outcomes = new LongAdder();
        final Map<String, Long> errors = new ConcurrentHashMap<>();
        /** The first error of each code, as the stream said it. */
        final Map<String, String> firstMessages = new ConcurrentHashMap<>();
        final AtomicLong cursor = new AtomicLong();
        volatile String end = "none (the stream broke or the deadline passed)";
        private final HttpClient http;
        private final URI uri;

        Accounting(HttpClient http, int port, String id) {
            this.http = http;
            this.uri = URI.create("http://127.0.0.1:" + port + "/tasks/" + id + "/events");
        }

        @Override
        public void run() {
            try (Stream<String> lines = http.send(HttpRequest.newBuilder(uri).header("Accept", "text/event-stream")
                    .build(), HttpResponse.BodyHandlers.ofLines()).body()) {
                Iterator<String> it = lines.iterator();
                while (it.hasNext()) {
                    String line = it.next();
                    if (line.startsWith("data: {\"type\":\"end\"")) {
                        ended(line);
                        return;
                    }
                    line(line);
                }
            } catch (IOException | UncheckedIOException e) {
                errors.merge("stream broke: " + e.getMessage(), 1L, Long::sum);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void ended(String line) {
            Matcher m = COUNT.matcher(line);
            StringJoiner totals = new StringJoiner(" ");
            while (m.find()) {
                totals.add(m.group(1) + "=" + m.group(2));
            }
            end = totals.toString();
        }

        private void line(String line) {
            if (line.startsWith("id: ")) {
                cursor.set(Long.parseLong(line.substring(4).strip()));
            } else if (line.startsWith("data: {\"type\":\"pkt_recv\"") || line.startsWith("data: {\"type\":\"pkt_timeout\"")) {
                outcomes.increment();
            } else if (line.startsWith("data: {\"type\":\"error\"") || line.startsWith("data: {\"type\":\"gap\"")) {
                Matcher code = CODE.matcher(line);
                String name = code.find() ? code.group(1) : "gap";
                errors.merge(name, 1L, Long::sum);
                Matcher message = MESSAGE.matcher(line);
                firstMessages.putIfAbsent(name, message.find() ? message.group(1) : line);
            }
        }
    }

    /** Keeps {@code clients} stream clients of every kind joining, staying 2 to 10 s, and leaving. */
    private static final class Churn implements Runnable {

        private static final List<String> KINDS = List.of("sse", "long-poll", "websocket", "ping-task");

        final Map<String, Long> joined = new ConcurrentHashMap<>();
        final LongAdder failures = new LongAdder();
        private final TaskStreams streams;
        private final int port;
        private final String id;
        private final AtomicLong cursor;
        private final int clients;
        private final AtomicBoolean running = new AtomicBoolean(true);

        Churn(TaskStreams streams, int port, String id, AtomicLong cursor, int clients) {
            this.streams = streams;
            this.port = port;
            this.id = id;
            this.cursor = cursor;
            this.clients = clients;
        }

        void stop() {
            running.set(false);
        }

        @Override
        public void run() {
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int turn = client; running.get(); turn++) {
                        String kind = KINDS.get(turn % KINDS.size());
                        long until = System.nanoTime()
                                + TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(2_000, 10_000));
                        try {
                            visit(kind, until);
                            joined.merge(kind, 1L, Long::sum);
                        } catch (IOException | RuntimeException e) {
                            failures.increment();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
            }
            for (Thread thread : threads) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        private void visit(String kind, long until) throws IOException, InterruptedException {
            long from = Math.max(0, cursor.get() - 100); // joins near the live end, as a dashboard opened now does
            switch (kind) {
                case "sse" -> streams.read(Transport.SSE, id, from, until);
                case "long-poll" -> streams.read(Transport.LONG_POLL, id, from, until);
                case "websocket" -> streams.read(Transport.WEBSOCKET, id, from, until);
                default -> {
                    try (StreamingPost post = new StreamingPost(port, "/ping-task",
                            "{\"targets\":[\"127.0.0.1\"],\"count\":20,\"interval\":500}")) {
                        String line = post.readLine();
                        while (line != null && System.nanoTime() - until < 0) { // reads until its time is up, then hangs up
                            line = post.readLine();
                        }
                    }
                }
            }
        }
    }
}
