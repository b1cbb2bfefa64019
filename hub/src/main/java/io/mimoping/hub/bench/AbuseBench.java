package io.mimoping.hub.bench;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.mimoping.agent.bench.Cpu;
import io.mimoping.agent.bench.Percentiles;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.RunTaskRequest;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code mimoping bench abuse}: starts a hub (a process of its own, under {@code prlimit --nofile} when asked),
 * keeps a canary {@code /ping-task} stream running beside it, and replays the attacks of issue 13 one after
 * another, all on loopback. For each it prints the canary's largest gap between two events (goal < 200 ms),
 * how soon the hub served a fresh request once the attack stopped (goal: within 1 s), whether its listener
 * still serves at all (10 s), its RSS and open fds afterwards, and what the attack itself saw. A failing item
 * prints as failing; every step has a deadline, so the benchmark never hangs.
 */
public final class AbuseBench implements AutoCloseable {

    static final String USAGE = """
            usage: mimoping bench abuse [OPTIONS]
              --attacks LIST          which, in order (default all): fd,idle,slowloris,grpc,hangups,streams,agent-kill
              --nofile N              the hub's fd limit (prlimit --nofile=N:N), 0: inherit (default 4096)
              --fd-connections N      connections that each send one request line (default: nofile + 100)
              --idle-connections N    idle connections, and half-sent requests, held --hold (default 500)
              --hold S                how long idle and slowloris connections are held (default 15)
              --grpc-bytes N          size of the oversize Hub/RunTask request (default 2100000)
              --hangups N             clients that send half a request and hang up (default 500)
              --streams N             concurrent /ping-task stream clients (default 2000)
              --canary-interval MS    the canary's probe interval (default 20)
              --rabbitmq-broker-url URL   for the agent-kill attack (default amqp://guest:guest@127.0.0.1:5672/)
              --hub-jvm-options OPTS  JVM options of the hub, space-separated (e.g. -XX:StartFlightRecording=filename=hub.jfr)
            """;

    private static final long GAP_GOAL_MS = 200;
    /** What an attack's own figure says when it misses its goal (no gRPC status, a late agent_lost, a slow first reply). */
    private static final String MISSED = "(FAIL";
    private static final Duration AGENT_LOST_GOAL = Duration.ofSeconds(2);
    private static final Duration FIRST_REPLY_GOAL = Duration.ofMillis(100);
    private static final Duration SERVED_GOAL = Duration.ofSeconds(1);
    private static final Duration LISTENER_DEADLINE = Duration.ofSeconds(10);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration ATTACK_DEADLINE = Duration.ofSeconds(90);

    private final Options options;
    private final Cpu clientCpu = new Cpu();
    private final JavaProcess hub;
    private final int port;
    private final Canary canary;

    private AbuseBench(Options options, JavaProcess hub) throws IOException, InterruptedException {
        this.options = options;
        this.hub = hub;
        this.port = hub.port(Duration.ZERO);
        this.canary = new Canary(port, "127.0.0.1", options.canaryIntervalMs());
    }

    /** The flags, with their defaults. */
    record Options(List<String> attacks, int nofile, int fdConnections, int idleConnections, Duration hold,
                   int grpcBytes, int hangups, int streams, int canaryIntervalMs, String broker, List<String> hubJvm) {

        static final List<String> ALL = List.of("fd", "idle", "slowloris", "grpc", "hangups", "streams", "agent-kill");

        static Options parse(String... args) {
            List<String> attacks = ALL;
            int nofile = 4096;
            Integer fdConnections = null;
            int idle = 500;
            int hold = 15;
            int grpcBytes = 2_100_000;
            int hangups = 500;
            int streams = 2000;
            int canary = 20;
            String broker = "amqp://guest:guest@127.0.0.1:5672/";
            List<String> hubJvm = List.of();
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : "";
                switch (args[i]) {
                    case "--attacks" -> attacks = List.of(value.split(","));
                    case "--nofile" -> nofile = Integer.parseInt(value);
                    case "--fd-connections" -> fdConnections = Integer.parseInt(value);
                    case "--idle-connections" -> idle = Integer.parseInt(value);
                    case "--hold" -> hold = Integer.parseInt(value);
                    case "--grpc-bytes" -> grpcBytes = Integer.parseInt(value);
                    case "--hangups" -> hangups = Integer.parseInt(value);
                    case "--streams" -> streams = Integer.parseInt(value);
                    case "--canary-interval" -> canary = Integer.parseInt(value);
                    case "--rabbitmq-broker-url" -> broker = value;
                    case "--hub-jvm-options" -> hubJvm = List.of(value.trim().split("\\s+"));
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
                i++;
            }
            for (String attack : attacks) {
                if (!ALL.contains(attack)) {
                    throw new IllegalArgumentException("--attacks: unknown attack '" + attack + "', known: " + ALL);
                }
            }
            if (fdConnections == null && nofile == 0) {
                throw new IllegalArgumentException("--nofile 0 needs --fd-connections (e.g. 19900 under a limit of 20000)");
            }
            return new Options(attacks, nofile, fdConnections == null ? nofile + 100 : fdConnections, idle,
                    Duration.ofSeconds(hold), grpcBytes, hangups, streams, canary, broker, hubJvm);
        }
    }

    /** What one attack left behind. */
    record Outcome(String attack, long gapMs, Optional<Duration> served, boolean listener, double cpuSeconds,
                   double gcSeconds, long rssKiB, int fds, String detail) {

        boolean ok() {
            return gapMs < GAP_GOAL_MS && served.isPresent() && listener && !detail.contains(MISSED);
        }

        String line() {
            return String.format(Locale.ROOT, "%-11s %8d %-4s %10s %-8s %7.2f %7.2f %8.0f %6d  %s%n", attack, gapMs,
                    gapMs < GAP_GOAL_MS ? "ok" : "FAIL", served.map(d -> d.toMillis() + " ms").orElse("FAIL"),
                    listener ? "alive" : "DEAD", cpuSeconds, gcSeconds, rssKiB / 1024.0, fds, detail);
        }
    }

    public static void main(String[] args) throws Exception {
        Optional<Options> parsed = BenchArgs.parse("abuse", USAGE, args, Options::parse);
        if (parsed.isEmpty()) {
            return;
        }
        Options options = parsed.get();
        List<Outcome> outcomes = run(options, System.out);
        System.out.println("command: ./mimoping bench abuse " + String.join(" ", args));
        System.exit(outcomes.stream().allMatch(Outcome::ok) ? 0 : 1);
    }

    /**
     * Runs the attacks of {@code options}, each against the hub of the one before unless its listener died (then
     * against a new hub), and prints the table to {@code out}; what each left.
     */
    static List<Outcome> run(Options options, PrintStream out) throws Exception {
        out.printf("goals: canary gap < %d ms, a fresh request served within %d ms after the attack, listener alive%n",
                GAP_GOAL_MS, SERVED_GOAL.toMillis());
        List<Outcome> outcomes = new ArrayList<>();
        AbuseBench bench = start(options, out);
        try {
            out.printf("%-11s %8s %-4s %10s %-8s %7s %7s %8s %6s  %s%n", "attack", "gap ms", "", "served in", "listener",
                    "CPU s", "GC s", "RSS MiB", "fds", "what the attack saw");
            for (int i = 0; i < options.attacks().size(); i++) {
                Outcome outcome = bench.attack(options.attacks().get(i));
                out.print(outcome.line());
                out.flush();
                outcomes.add(outcome);
                if (!outcome.listener() && i + 1 < options.attacks().size()) {
                    bench.close();
                    bench = start(options, out); // the next attacks say something only against a hub that serves
                }
            }
            out.printf("canary: %d events, stream started again %d times%n", bench.canary.events(),
                    bench.canary.restarts());
        } finally {
            bench.close();
        }
        return outcomes;
    }

    /** Starts a hub and its canary, and waits until the canary flows. */
    private static AbuseBench start(Options options, PrintStream out) throws Exception {
        List<String> wrapper = options.nofile() > 0
                ? List.of("prlimit", "--nofile=" + options.nofile() + ":" + options.nofile(), "--") : List.of();
        JavaProcess hub = JavaProcess.hub(wrapper, options.hubJvm(), List.of("--rabbitmq-broker-url", options.broker()));
        AbuseBench bench = new AbuseBench(options, hub);
        out.printf("abuse: hub pid %d (fd limit %s, log %s), canary: /ping-task to 127.0.0.1 every %d ms%n",
                hub.pid(), options.nofile() > 0 ? options.nofile() : "inherited", hub.log(), options.canaryIntervalMs());
        try {
            bench.awaitCanary();
        } catch (IllegalStateException e) {
            bench.close();
            throw e;
        }
        return bench;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            canary.close();
        } finally {
            hub.close();
        }
    }

    private void awaitCanary() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (canary.events() < 10 && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
        }
        if (canary.events() < 10) {
            throw new IllegalStateException("the canary stream got no events within 30 s; the hub's log: " + hub.log());
        }
    }

    private Outcome attack(String name) throws Exception {
        int logFrom = hub.logLines(0).size();
        Duration cpuFrom = hub.cpu();
        double gcFrom = hub.gcSeconds();
        long started = System.nanoTime();
        String detail;
        try {
            detail = switch (name) {
                case "fd" -> held(options.fdConnections(), "GET /conns HTTP/1.1\r\n", Duration.ofSeconds(2));
                case "idle" -> held(options.idleConnections(), "", options.hold());
                case "slowloris" -> held(options.idleConnections(), "GET /conns HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                        options.hold());
                case "grpc" -> grpcOversize();
                case "hangups" -> hangups();
                case "streams" -> streams();
                case "agent-kill" -> agentKill();
                default -> throw new IllegalArgumentException(name);
            };
        } catch (Exception e) { // the attack's own failure is a result too, never the end of the run
            detail = "the attack itself failed " + MISSED + "): " + e;
        }
        long stopped = System.nanoTime();
        Optional<Duration> served = served(SERVED_GOAL);
        boolean listener = served.isPresent() || served(LISTENER_DEADLINE).isPresent();
        long windowEnd = stopped + SERVED_GOAL.toNanos(); // the attack and the second after it, not a moment less
        long early = windowEnd - System.nanoTime();
        if (early > 0) {
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(early) + 1);
        }
        long gap = canary.maxGap(started, System.nanoTime());
        List<String> log = hub.logLines(logFrom);
        long warnings = log.stream().filter(l -> l.contains("WARNING") || l.contains("SEVERE")).count();
        long traces = 0; // a trace starts where its first "\tat" line follows another kind of line
        for (int i = 1; i < log.size(); i++) {
            if (log.get(i).startsWith("\tat ") && !log.get(i - 1).startsWith("\tat ")) {
                traces++;
            }
        }
        String logged = String.format(Locale.ROOT, "; hub log: %d lines, %d WARNING/SEVERE, %d stack traces", log.size(),
                warnings, traces);
        return new Outcome(name, TimeUnit.NANOSECONDS.toMillis(gap), served, listener,
                hub.cpu().minus(cpuFrom).toNanos() / 1e9, hub.gcSeconds() - gcFrom, hub.rssKiB(), hub.fds(),
                detail + logged);
    }

    /**
     * How soon the hub answered a fresh {@code GET /conns}, trying again until {@code within} passed; empty if it
     * did not.
     */
    private Optional<Duration> served(Duration within) {
        long start = System.nanoTime();
        long deadline = start + within.toNanos();
        while (System.nanoTime() - deadline < 0) {
            int left = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), left);
                socket.setSoTimeout(left);
                socket.getOutputStream().write(("GET /conns HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                byte[] head = socket.getInputStream().readNBytes(12);
                if (new String(head, StandardCharsets.US_ASCII).equals("HTTP/1.1 200")) {
                    return Optional.of(Duration.ofNanos(System.nanoTime() - start));
                }
            } catch (IOException e) {
                // refused, reset or timed out: try again while there is time
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Opens {@code n} connections that each send {@code request} (a request line, half a request, or nothing),
     * holds them {@code hold}, writing one more header line every 2 s to those that sent something (slowloris),
     * then closes them; says how many connected and how many the hub closed while they were held.
     */
    private String held(int n, String request, Duration hold) throws InterruptedException {
        ConcurrentLinkedQueue<Socket> open = new ConcurrentLinkedQueue<>();
        AtomicInteger refused = new AtomicInteger();
        byte[] first = request.getBytes(StandardCharsets.US_ASCII);
        Semaphore connecting = new Semaphore(256); // the kernel's accept backlog, not a flood of SYNs
        long deadline = System.nanoTime() + ATTACK_DEADLINE.toNanos();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                threads.submit(() -> {
                    connecting.acquire();
                    Socket socket = new Socket();
                    try {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), (int) CONNECT_TIMEOUT.toMillis());
                        socket.getOutputStream().write(first);
                        open.add(socket);
                    } catch (IOException e) {
                        refused.incrementAndGet();
                        socket.close();
                    } finally {
                        connecting.release();
                    }
                    return null;
                });
            }
            threads.shutdown();
            if (!threads.awaitTermination(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                threads.shutdownNow();
            }
        }
        int connected = open.size();
        long holdEnd = Math.min(deadline, System.nanoTime() + hold.toNanos());
        int closedByHub = 0;
        List<Socket> sockets = new ArrayList<>(open);
        boolean[] closed = new boolean[sockets.size()];
        while (System.nanoTime() - holdEnd < 0) {
            Thread.sleep(Math.min(2_000, Math.max(1, TimeUnit.NANOSECONDS.toMillis(holdEnd - System.nanoTime()))));
            for (int i = 0; i < sockets.size(); i++) {
                if (!closed[i] && first.length > 0 && !writeHeader(sockets.get(i))) {
                    closed[i] = true;
                }
            }
        }
        for (int i = 0; i < sockets.size(); i++) {
            if (!closed[i] && closedByPeer(sockets.get(i))) {
                closed[i] = true;
            }
            if (closed[i]) {
                closedByHub++;
            }
            try {
                sockets.get(i).close();
            } catch (IOException e) {
                // closing our side of a dead connection
            }
        }
        return String.format(Locale.ROOT, "%d of %d connected (%d refused or timed out), %d closed by the hub within %d s",
                connected, n, refused.get(), closedByHub, hold.toSeconds());
    }

    private static boolean writeHeader(Socket socket) {
        try {
            socket.getOutputStream().write("X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the hub answered (a 408, say), closed or reset the connection. */
    private static boolean closedByPeer(Socket socket) {
        try {
            socket.setSoTimeout(1);
            socket.getInputStream().read();
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** A Hub/RunTask request over the hub's limit: how soon a status came, and which. */
    private String grpcOversize() throws InterruptedException {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
                .maxInboundMessageSize(options.grpcBytes() * 2).build();
        long start = System.nanoTime();
        try {
            RunTaskRequest request = RunTaskRequest.newBuilder().addTargets("a".repeat(options.grpcBytes())).build();
            var events = HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).runTask(request);
            while (events.hasNext()) {
                events.next();
            }
            return String.format(Locale.ROOT, "%d-byte request: the stream ended without an error after %d ms",
                    request.getSerializedSize(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } catch (StatusRuntimeException e) {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            return e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED
                    ? String.format(Locale.ROOT, "%d-byte request: no status within 10 s %s)", options.grpcBytes(), MISSED)
                    : String.format(Locale.ROOT, "%d-byte request: %s after %d ms", options.grpcBytes(),
                    e.getStatus().getCode(), ms);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Clients that send half a request and hang up: what the hub logs about them is in the log column. */
    private String hangups() throws InterruptedException {
        AtomicInteger sent = new AtomicInteger();
        byte[] half = ("POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n{\"targets\":").getBytes(StandardCharsets.US_ASCII);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < options.hangups(); i++) {
                threads.submit(() -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), (int) CONNECT_TIMEOUT.toMillis());
                        socket.getOutputStream().write(half);
                        sent.incrementAndGet();
                    }
                    return null;
                });
            }
            threads.shutdown();
            if (!threads.awaitTermination(ATTACK_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                threads.shutdownNow();
            }
        }
        Thread.sleep(1_000); // the hub notices the hang-ups and logs what it logs
        return String.format(Locale.ROOT, "%d of %d sent half a POST and hung up", sent.get(), options.hangups());
    }

    /**
     * {@code n} clients each POST a /ping-task stream at once (3 probes to 127.0.0.1, 1 s apart, so that they all
     * stream together): how soon each got its response head and its first probe outcome, and the CPU this process
     * spent as their client.
     */
    private String streams() throws IOException {
        long cpuFrom = clientCpu.process();
        StreamFlood.Result result = StreamFlood.run(port, "{\"targets\":[\"127.0.0.1\"],\"count\":3,\"interval\":1000,"
                + "\"timeout\":2000}", options.streams(), System.nanoTime() + ATTACK_DEADLINE.toNanos());
        double clientSeconds = (clientCpu.process() - cpuFrom) / 1e9;
        long[] heads = Arrays.stream(result.head()).filter(t -> t >= 0).sorted().toArray();
        long[] outcomes = Arrays.stream(result.firstOutcome()).filter(t -> t >= 0).sorted().toArray();
        long p50 = Percentiles.of(outcomes, 50);
        return String.format(Locale.ROOT, "%d clients: %d streamed to the end, %d failed%s; response head p50 %d ms"
                        + " p99 %d ms; first reply p50 %d ms%s p99 %d ms max %d ms; client CPU %.2f s",
                options.streams(), result.completed(), result.failed(),
                result.firstFailure() == null ? "" : " (" + result.firstFailure() + ")",
                millis(Percentiles.of(heads, 50)), millis(Percentiles.of(heads, 99)), millis(p50),
                outcomes.length > 0 && p50 < FIRST_REPLY_GOAL.toNanos() ? "" : " " + MISSED + ": goal < 100 ms)",
                millis(Percentiles.of(outcomes, 99)), outcomes.length == 0 ? 0 : millis(outcomes[outcomes.length - 1]),
                clientSeconds);
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /**
     * An agent of this hub killed with SIGKILL in the middle of a task: how soon the task's stream says
     * {@code agent_lost}, and how soon {@code GET /conns} no longer lists it.
     */
    private String agentKill() throws Exception {
        String name = "abuse-" + Long.toHexString(System.nanoTime());
        try (JavaProcess agent = JavaProcess.start(name, List.of(), List.of(), "io.mimoping.agent.process.AgentMain",
                List.of("--node-name", name, "--addr", "127.0.0.1:" + port, "--rabbitmq-broker-url", options.broker(),
                        "--control-addr", "127.0.0.1:0"));
             HttpClient http = HttpClient.newHttpClient()) {
            TaskStreams hubApi = new TaskStreams(http, port);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!hubApi.get("/conns", Duration.ofSeconds(5)).contains("\"" + name + "\"")) {
                if (System.nanoTime() - deadline > 0 || !agent.alive()) {
                    return "the agent did not register within 60 s " + MISSED + "); its log: " + agent.log();
                }
                Thread.sleep(100);
            }
            String body = "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],\"count\":1000,\"interval\":100}";
            try (StreamingPost post = new StreamingPost(port, "/ping-task", body)) {
                for (String line = post.readLine(); line != null && !line.startsWith("{\"type\":\"pkt_recv\"");
                     line = post.readLine()) {
                    if (line.startsWith("{\"type\":\"error\"")) {
                        return "the agent's task failed before the kill: " + line;
                    }
                }
                agent.kill();
                long killed = System.nanoTime();
                CompletableFuture<Long> gone = new CompletableFuture<>();
                Thread watcher = Thread.ofVirtual().start(() -> {
                    try {
                        while (hubApi.get("/conns", Duration.ofSeconds(5)).contains("\"" + name + "\"")) {
                            Thread.sleep(50);
                        }
                        gone.complete(System.nanoTime() - killed);
                    } catch (IOException | InterruptedException e) {
                        gone.completeExceptionally(e);
                    }
                });
                String lost = "no agent_lost within 30 s " + MISSED + ")";
                long lostDeadline = killed + Duration.ofSeconds(30).toNanos();
                for (String line = post.readLine(); line != null && System.nanoTime() - lostDeadline < 0;
                     line = post.readLine()) {
                    if (line.contains("\"agent_lost\"")) {
                        long after = System.nanoTime() - killed;
                        lost = String.format(Locale.ROOT, "agent_lost %.1f s after SIGKILL%s", after / 1e9,
                                after < AGENT_LOST_GOAL.toNanos() ? "" : " " + MISSED + ": goal < 2 s)");
                        break;
                    }
                }
                String conns;
                try {
                    conns = String.format(Locale.ROOT, "gone from /conns after %.1f s",
                            gone.get(Math.max(1, lostDeadline - System.nanoTime()), TimeUnit.NANOSECONDS) / 1e9);
                } catch (TimeoutException | ExecutionException e) {
                    watcher.interrupt();
                    conns = "still in /conns after 30 s";
                }
                return lost + ", " + conns;
            }
        }
    }
}
