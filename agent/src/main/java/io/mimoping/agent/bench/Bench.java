package io.mimoping.agent.bench;

import io.mimoping.agent.engine.EngineStats;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.lab.Behaviour;
import io.mimoping.agent.lab.HandledRequest;
import io.mimoping.agent.lab.ImpairmentLab;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TaskTotals;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * {@code mimoping bench}: the engine's benchmarks, side by side with fping in the same run.
 * <ul>
 *   <li>{@code engine [--targets N] [--count C] [--repeat R]}: N loopback targets × C probes, fping-style
 *       pacing ({@code fping -q -C C -i 0 -p 1 -t 500}), fping then mimoping, R times.</li>
 *   <li>{@code continuous [--targets N] [--rate R] [--duration S]}: N targets at R probes/s each for S
 *       seconds: CPU % and allocations in the steady state; fping tried on the same job.</li>
 *   <li>{@code outstanding [--targets N] [--count C]}: N × C probes in flight or remembered at once.</li>
 *   <li>{@code lab [--delays 5,10] [--targets N] [--count C]}: RTT error against delays emulated by the
 *       impairment lab (needs root).</li>
 * </ul>
 * Every mode takes {@code --json}. Targets are loopback addresses (127.0.0.0/8) or the lab's own.
 */
public final class Bench {

    private static final String USAGE = """
            usage: mimoping bench engine      [--targets N=10000] [--count C=6] [--repeat R=1] [--warmup W=2] [--json]
                   mimoping bench continuous  [--targets N=10000] [--rate R=1] [--duration S=30] [--timeout MS=1000] [--json]
                   mimoping bench outstanding [--targets N=100000] [--count C=10] [--json]
                   mimoping bench lab         [--delays MS,MS=5,10] [--targets N=8] [--count C=200] [--interval MS=10] [--json]""";

    private final Map<String, String> options;
    private final boolean json;
    private final PrintStream out;
    private final PrintStream err;
    private final Cpu cpu = new Cpu();

    private Bench(Map<String, String> options, boolean json, PrintStream out, PrintStream err) {
        this.options = options;
        this.json = json;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            err.println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        Map<String, String> options = new LinkedHashMap<>();
        boolean json = false;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--json")) {
                json = true;
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                options.put(args[i].substring(2), args[++i]);
            } else {
                err.println("mimoping bench: unexpected argument '" + args[i] + "'\n" + USAGE);
                return 2;
            }
        }
        Bench bench = new Bench(options, json, out, err);
        return switch (args[0]) {
            case "engine" -> bench.engine();
            case "continuous" -> bench.continuous();
            case "outstanding" -> bench.outstanding();
            case "lab" -> bench.lab();
            default -> {
                err.println("mimoping bench: unknown benchmark '" + args[0] + "'\n" + USAGE);
                yield 2;
            }
        };
    }

    // ---- engine: fping vs mimoping, same targets, same run ----

    private int engine() throws Exception {
        int targets = intOption("targets", 10_000);
        int count = intOption("count", 6);
        int repeat = intOption("repeat", 1);
        List<String> addresses = loopbackTargets(targets);
        Path file = targetFile(addresses);
        List<Row> rows = new ArrayList<>();
        boolean fping = Fping.installed();
        try (IcmpEngine engine = openEngine()) {
            // Warm-up, not reported: the same job, so the JIT has compiled the hot paths before measuring.
            for (int w = 0; w < intOption("warmup", 2); w++) {
                ours(engine, addresses, count, 1, 500, 0, "warm-up");
            }
            for (int r = 1; r <= repeat; r++) {
                if (fping) {
                    rows.add(fping(file, targets, count, r));
                }
                rows.add(ours(engine, addresses, count, 1, 500, r, "mimoping"));
            }
            report("engine", Map.of("targets", targets, "count", count,
                    "fping_command", "fping -q -C " + count + " -i 0 -p 1 -t 500 < TARGETS",
                    "mimoping_task", "interval 1 ms, timeout 500 ms, payload 56", "timestamping",
                    engine.timestamping(IcmpFamily.V4).map(Object::toString).orElse("none")), rows,
                    fping ? "" : "fping is not installed: apt-get install fping");
        } finally {
            Files.deleteIfExists(file);
        }
        return 0;
    }

    private Row fping(Path file, int targets, int count, int run) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Progress progress = new Progress("fping", () -> -1, targets, start);
        progress.start();
        Fping.Result result;
        try {
            result = Fping.run(file, List.of("-q", "-C", String.valueOf(count), "-i", "0", "-p", "1", "-t", "500"),
                    count, lines -> { });
        } finally {
            progress.stop();
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("exit", result.exit());
        if (!result.message().isEmpty()) {
            extra.put("message", result.message());
        }
        return new Row("fping", run, targets, count, result.sent(), result.received(), result.wallNanos(),
                result.cpuNanos(), result.sortedRtts(), extra);
    }

    private Row ours(IcmpEngine engine, List<String> targets, int count, long intervalMs, long timeoutMs, int run,
                     String label) throws Exception {
        Recorder recorder = new Recorder(targets.size() * count);
        EngineStats before = engine.stats();
        long cpuBefore = cpu.process();
        long engineBefore = cpu.threads(engine.shardThreadIds());
        long[] dispatcher = {engine.dispatcherThreadId()};
        long dispatcherBefore = cpu.threads(dispatcher);
        long jitBefore = java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        long gcBefore = gcCount();
        long start = System.nanoTime();
        engine.start(new PingTask(label + "-" + run, targets, Duration.ofMillis(intervalMs), count,
                Duration.ofMillis(timeoutMs), 56), recorder);
        Progress progress = new Progress(label, recorder::received, (long) targets.size() * count, start);
        if (run > 0) {
            progress.start();
        }
        TaskTotals totals;
        try {
            totals = recorder.await(intervalMs * count + timeoutMs + 600_000);
        } finally {
            progress.stop();
        }
        long wall = System.nanoTime() - start;
        long cpuUsed = cpu.process() - cpuBefore;
        long engineCpu = cpu.threads(engine.shardThreadIds()) - engineBefore;
        EngineStats after = engine.stats();
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("engine_threads_cpu_percent", 100.0 * engineCpu / wall);
        extra.put("dispatcher_cpu_percent", 100.0 * (cpu.threads(dispatcher) - dispatcherBefore) / wall);
        extra.put("jit_ms", java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime()
                - jitBefore);
        extra.put("gc_cycles", gcCount() - gcBefore);
        extra.put("kernel_drops", after.kernelDrops() - before.kernelDrops());
        extra.put("user_clock_replies", after.userClockReplies() - before.userClockReplies());
        extra.put("event_waits", after.eventWaits() - before.eventWaits());
        extra.put("timeouts", totals.timeouts());
        extra.put("errors", totals.errors());
        if (recorder.firstError() != null) {
            extra.put("first_error", recorder.firstError());
        }
        return new Row("mimoping", run, targets.size(), count, totals.sent(), totals.received(), wall, cpuUsed,
                recorder.sortedRtts(), extra);
    }

    // ---- continuous: N targets at a fixed rate ----

    private int continuous() throws Exception {
        int targets = intOption("targets", 10_000);
        double rate = Double.parseDouble(options.getOrDefault("rate", "1"));
        int duration = intOption("duration", 30);
        long timeoutMs = intOption("timeout", 1000);
        long intervalNanos = Math.round(1e9 / rate);
        int count = (int) Math.max(1, Math.round(rate * duration));
        List<String> addresses = loopbackTargets(targets);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("targets", targets);
        result.put("rate_per_target", rate);
        result.put("duration_s", duration);
        result.put("probes_per_s", targets * rate);
        if (Fping.installed()) {
            result.put("fping", fpingContinuous(addresses, count, Math.max(1, intervalNanos / 1_000_000), timeoutMs,
                    duration));
        }
        try (IcmpEngine engine = openEngine()) {
            ours(engine, addresses.subList(0, Math.min(targets, 2000)), 3, 1, 500, 0, "warm-up");
            long[] shardIds = engine.shardThreadIds();
            long[] dispatcher = {engine.dispatcherThreadId()};
            Recorder recorder = new Recorder(targets * count);
            long start = System.nanoTime();
            engine.start(new PingTask("continuous", addresses, Duration.ofNanos(intervalNanos), count,
                    Duration.ofMillis(timeoutMs), 56), recorder);
            Progress progress = new Progress("mimoping", recorder::received, (long) targets * count, start);
            progress.start();
            long warm = Math.min(5_000, duration * 1000L / 5);
            Thread.sleep(warm);
            long t0 = System.nanoTime();
            long cpu0 = cpu.process();
            long shard0 = cpu.threads(shardIds);
            long disp0 = cpu.threads(dispatcher);
            long alloc0 = cpu.allocated(shardIds);
            long allocDisp0 = cpu.allocated(dispatcher);
            long gc0 = gcCount();
            // The steady state ends with the last round's sends; what follows is waiting for the last replies.
            long steadyEnd = start + intervalNanos * (count - 1);
            long sleep = (steadyEnd - System.nanoTime()) / 1_000_000;
            if (sleep > 0) {
                Thread.sleep(sleep);
            }
            long t1 = System.nanoTime();
            long cpu1 = cpu.process();
            long shard1 = cpu.threads(shardIds);
            long disp1 = cpu.threads(dispatcher);
            long alloc1 = cpu.allocated(shardIds);
            long allocDisp1 = cpu.allocated(dispatcher);
            long gc1 = gcCount();
            TaskTotals totals;
            try {
                totals = recorder.await(timeoutMs + 60_000);
            } finally {
                progress.stop();
            }
            double window = (t1 - t0) / 1e9;
            EngineStats stats = engine.stats();
            long[] rtts = recorder.sortedRtts();
            Map<String, Object> ours = new LinkedHashMap<>();
            ours.put("steady_window_s", window);
            ours.put("process_cpu_percent", 100.0 * (cpu1 - cpu0) / (t1 - t0));
            ours.put("engine_threads_cpu_percent", 100.0 * (shard1 - shard0) / (t1 - t0));
            ours.put("dispatcher_cpu_percent", 100.0 * (disp1 - disp0) / (t1 - t0));
            ours.put("engine_threads_alloc_bytes_per_s", (alloc1 - alloc0) / window);
            ours.put("dispatcher_alloc_bytes_per_s", (allocDisp1 - allocDisp0) / window);
            ours.put("gc_cycles", gc1 - gc0);
            ours.put("sent", totals.sent());
            ours.put("received", totals.received());
            ours.put("loss_percent", totals.sent() == 0 ? 0.0 : 100.0 * (totals.sent() - totals.received()) / totals.sent());
            ours.put("median_rtt_us", Percentiles.of(rtts, 50) / 1e3);
            ours.put("p99_rtt_us", Percentiles.of(rtts, 99) / 1e3);
            ours.put("kernel_drops", stats.kernelDrops());
            ours.put("user_clock_replies", stats.userClockReplies());
            ours.put("event_waits", stats.eventWaits());
            result.put("mimoping", ours);
        }
        if (json) {
            out.println(Json.write(result));
        } else {
            out.printf(Locale.ROOT, "continuous: %d loopback targets at %s probe/s each (%.0f probes/s) for %d s%n",
                    targets, rate, targets * rate, duration);
            printMap(result);
        }
        return 0;
    }

    private Map<String, Object> fpingContinuous(List<String> addresses, int count, long periodMs, long timeoutMs,
                                                int duration) throws IOException, InterruptedException {
        Path file = targetFile(addresses);
        try {
            long start = System.nanoTime();
            Progress progress = new Progress("fping", () -> -1, addresses.size(), start);
            progress.start();
            Fping.Result r;
            try {
                r = Fping.run(file, List.of("-q", "-C", String.valueOf(count), "-i", "0", "-p",
                        String.valueOf(periodMs), "-t", String.valueOf(timeoutMs)), count, lines -> { });
            } finally {
                progress.stop();
            }
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("command", "fping -q -C " + count + " -i 0 -p " + periodMs + " -t " + timeoutMs + " < TARGETS");
            map.put("exit", r.exit());
            map.put("ran_s", r.wallNanos() / 1e9);
            map.put("completed", r.exit() <= 1 && r.sent() == (long) addresses.size() * count);
            map.put("cpu_percent", r.wallNanos() == 0 ? 0.0 : 100.0 * r.cpuNanos() / r.wallNanos());
            map.put("sent_reported", r.sent());
            map.put("message", r.message());
            return map;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    // ---- outstanding: a million probes at once ----

    private int outstanding() throws Exception {
        int targets = intOption("targets", 100_000);
        int count = intOption("count", 10);
        List<String> addresses = loopbackTargets(targets);
        List<Row> rows = new ArrayList<>();
        Map<String, Object> fpingResult = null;
        if (Fping.installed()) {
            Path file = targetFile(addresses);
            try {
                Fping.Result r = Fping.run(file, List.of("-q", "-C", String.valueOf(count), "-i", "0", "-p", "1",
                        "-t", "60000"), count, lines -> { });
                fpingResult = new LinkedHashMap<>();
                fpingResult.put("exit", r.exit());
                fpingResult.put("sent_reported", r.sent());
                fpingResult.put("received", r.received());
                fpingResult.put("message", r.message());
            } finally {
                Files.deleteIfExists(file);
            }
        }
        try (IcmpEngine engine = openEngine()) {
            // The timeout keeps every probe remembered (for a late reply) for the whole run: all are outstanding.
            Row row = ours(engine, addresses, count, 1, 60_000, 1, "mimoping");
            EngineStats stats = engine.stats();
            row.extra().put("slots_peak", stats.slotsPeak());
            rows.add(row);
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("targets", targets);
            header.put("count", count);
            header.put("timeout_ms", 60_000);
            header.put("slots_peak", stats.slotsPeak());
            if (fpingResult != null) {
                header.put("fping", fpingResult);
            }
            report("outstanding", header, rows, "");
        }
        return 0;
    }

    // ---- lab: RTT error against emulated delays ----

    private int lab() throws Exception {
        int perFamily = intOption("targets", 8);
        int count = intOption("count", 200);
        long intervalMs = intOption("interval", 10);
        List<Map<String, Object>> results = new ArrayList<>();
        try (IcmpEngine engine = openEngine()) {
            for (String delayText : options.getOrDefault("delays", "5,10").split(",")) {
                long delayMs = Long.parseLong(delayText.strip());
                try (ImpairmentLab lab = ImpairmentLab.open(perFamily)) {
                    List<String> targets = new ArrayList<>();
                    for (IcmpFamily family : IcmpFamily.values()) {
                        for (int i = 0; i < perFamily; i++) {
                            InetAddress target = lab.target(family, i);
                            lab.behave(target, new Behaviour.Echo(Duration.ofMillis(delayMs)));
                            targets.add(target.getHostAddress());
                        }
                    }
                    // Filled on the engine's event thread, read after onFinished (the future orders the two).
                    List<Long> errors = new ArrayList<>();
                    List<Reply> replies = new ArrayList<>();
                    CompletableFuture<TaskTotals> done = new CompletableFuture<>();
                    long delay = Duration.ofMillis(delayMs).toNanos();
                    engine.start(new PingTask("lab", targets, Duration.ofMillis(intervalMs), count,
                            Duration.ofMillis(delayMs * 10 + 100), 56), new ProbeListener() {
                        @Override
                        public void onEvent(ProbeEvent event) {
                            if (event instanceof Reply reply && reply.kind() == Reply.Kind.FIRST) {
                                errors.add(reply.rttNanos() - delay);
                                replies.add(reply);
                            }
                        }

                        @Override
                        public void onFinished(TaskTotals totals) {
                            done.complete(totals);
                        }
                    });
                    TaskTotals totals = done.get(intervalMs * count + delayMs * 10 + 60_000, TimeUnit.MILLISECONDS);
                    // The delay the lab really applied: its reply's kernel TX stamp minus the request's kernel RX
                    // stamp. RTT minus that is our own error, without the lab responder's lateness.
                    List<Long> ownErrors = new ArrayList<>();
                    List<Long> lateness = new ArrayList<>();
                    for (String target : targets) {
                        Map<Integer, HandledRequest> handled = new HashMap<>();
                        lab.handled(InetAddress.getByName(target)).forEach(h -> handled.put(h.seq(), h));
                        for (Reply reply : replies) {
                            HandledRequest request = handled.get((int) reply.seq());
                            if (!reply.target().equals(target) || request == null || request.dropped()) {
                                continue;
                            }
                            request.applied(request.answers().getFirst()).ifPresent(applied -> {
                                ownErrors.add(reply.rttNanos() - applied.toNanos());
                                lateness.add(applied.toNanos() - delay);
                            });
                        }
                    }
                    long[] own = ownErrors.stream().mapToLong(Long::longValue).sorted().toArray();
                    long[] ownAbsolute = ownErrors.stream().mapToLong(Math::abs).sorted().toArray();
                    long[] late = lateness.stream().mapToLong(Long::longValue).sorted().toArray();
                    long[] sorted = errors.stream().mapToLong(Long::longValue).sorted().toArray();
                    long[] absolute = errors.stream().mapToLong(Math::abs).sorted().toArray();
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("delay_ms", delayMs);
                    r.put("replies", sorted.length);
                    r.put("sent", totals.sent());
                    r.put("mean_error_us", Percentiles.mean(sorted) / 1e3);
                    r.put("median_error_us", Percentiles.of(sorted, 50) / 1e3);
                    r.put("p99_abs_error_us", Percentiles.of(absolute, 99) / 1e3);
                    r.put("max_abs_error_us", absolute.length == 0 ? 0.0 : absolute[absolute.length - 1] / 1e3);
                    r.put("min_error_us", sorted.length == 0 ? 0.0 : sorted[0] / 1e3);
                    r.put("own_mean_error_us", Percentiles.mean(own) / 1e3);
                    r.put("own_p99_abs_error_us", Percentiles.of(ownAbsolute, 99) / 1e3);
                    r.put("own_max_abs_error_us", ownAbsolute.length == 0 ? 0.0 : ownAbsolute[ownAbsolute.length - 1] / 1e3);
                    r.put("lab_lateness_mean_us", Percentiles.mean(late) / 1e3);
                    r.put("lab_lateness_p99_us", Percentiles.of(late, 99) / 1e3);
                    results.add(r);
                }
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("targets", 2 * perFamily);
            result.put("count", count);
            result.put("interval_ms", intervalMs);
            result.put("timestamping", engine.timestamping(IcmpFamily.V4).map(Object::toString).orElse("none"));
            result.put("delays", results);
            if (json) {
                out.println(Json.write(result));
            } else {
                out.printf(Locale.ROOT, "lab: RTT error (RTT - emulated delay), %d targets (IPv4 and IPv6) × %d probes,"
                        + " %d ms apart%n", 2 * perFamily, count, intervalMs);
                out.printf(Locale.ROOT, "%8s %8s | %9s %9s %12s %9s | %9s %12s | %9s %9s%n", "delay", "replies",
                        "mean µs", "median µs", "p99 |err| µs", "max µs", "own mean", "own p99 |e|", "lab late",
                        "lab p99");
                for (Map<String, Object> r : results) {
                    out.printf(Locale.ROOT, "%6d ms %8d | %9.1f %9.1f %12.1f %9.1f | %9.1f %12.1f | %9.1f %9.1f%n",
                            r.get("delay_ms"), r.get("replies"), r.get("mean_error_us"), r.get("median_error_us"),
                            r.get("p99_abs_error_us"), r.get("max_abs_error_us"), r.get("own_mean_error_us"),
                            r.get("own_p99_abs_error_us"), r.get("lab_lateness_mean_us"), r.get("lab_lateness_p99_us"));
                }
                out.println("error = RTT - emulated delay; own = RTT - delay the lab really applied (its reply's"
                        + " kernel TX stamp - the request's kernel RX stamp); lab late = applied - emulated");
                out.println("timestamping: " + result.get("timestamping"));
            }
        }
        return 0;
    }

    // ---- helpers ----

    private IcmpEngine openEngine() {
        IcmpEngine engine = IcmpEngine.open();
        if (engine.unavailable(IcmpFamily.V4).isPresent()) {
            engine.close();
            throw new IllegalStateException(engine.unavailable(IcmpFamily.V4).orElseThrow());
        }
        return engine;
    }

    private void report(String name, Map<String, Object> header, List<Row> rows, String note) {
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("benchmark", name);
            result.putAll(header);
            result.put("runs", rows.stream().map(Row::json).toList());
            if (!note.isEmpty()) {
                result.put("note", note);
            }
            out.println(Json.write(result));
            return;
        }
        out.println(name + ": " + header);
        out.println(Row.header());
        for (Row row : rows) {
            out.println(row.line());
        }
        for (Row row : rows) {
            if (!row.extra().isEmpty()) {
                out.println("  " + row.tool() + " run " + row.run() + ": " + row.extra());
            }
        }
        if (!note.isEmpty()) {
            out.println(note);
        }
        out.println("CPU %: of one core, the whole process (mimoping: the JVM, with JIT and GC); "
                + "probes/s: probes sent / wall time of the run");
    }

    private void printMap(Map<String, Object> map) {
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            if (entry.getValue() instanceof Map<?, ?> inner) {
                out.println(entry.getKey() + ":");
                for (Map.Entry<?, ?> e : inner.entrySet()) {
                    Object v = e.getValue();
                    out.println("  " + e.getKey() + ": " + (v instanceof Double d
                            ? String.format(Locale.ROOT, "%.2f", d) : v));
                }
            }
        }
    }

    private int intOption(String name, int fallback) {
        String value = options.get(name);
        return value == null ? fallback : Integer.parseInt(value);
    }

    private static long gcCount() {
        long total = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionCount());
        }
        return total;
    }

    /** N distinct loopback addresses 127.a.b.c (c from 1 to 254): every one answers, nothing leaves the host. */
    static List<String> loopbackTargets(int n) {
        if (n < 1 || n > 254 * 256 * 254) {
            throw new IllegalArgumentException("targets outside [1, " + 254 * 256 * 254 + "]: " + n);
        }
        List<String> targets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int c = i % 254 + 1;
            int b = (i / 254) % 256;
            int a = i / (254 * 256) + 1;
            targets.add("127." + a + "." + b + "." + c);
        }
        return targets;
    }

    private static Path targetFile(List<String> targets) throws IOException {
        Path file = Files.createTempFile("mimoping-bench-", ".txt");
        Files.write(file, targets);
        return file;
    }

    /** A progress line on stderr, rewritten in place every quarter second. */
    private final class Progress {
        private final String label;
        private final LongSupplier done;
        private final long total;
        private final long start;
        private Thread thread;

        Progress(String label, LongSupplier done, long total, long start) {
            this.label = label;
            this.done = done;
            this.total = total;
            this.start = start;
        }

        void start() {
            thread = Thread.ofPlatform().daemon().name("bench-progress").start(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        print();
                        Thread.sleep(250);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        void stop() throws InterruptedException {
            if (thread != null) {
                thread.interrupt();
                thread.join();
                err.print("\r\033[K");
                err.flush();
            }
        }

        private void print() {
            double seconds = (System.nanoTime() - start) / 1e9;
            long n = done.getAsLong();
            if (n < 0) {
                err.printf(Locale.ROOT, "\r\033[K%s: running, %.1f s", label, seconds);
            } else {
                err.printf(Locale.ROOT, "\r\033[K%s: %,d / %,d replies, %.1f s, %,.0f/s", label, n, total, seconds,
                        n / Math.max(seconds, 1e-3));
            }
            err.flush();
        }
    }
}
