package io.mimoping.hub.bench;

import io.mimoping.hub.bench.TaskStreams.Transport;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code mimoping bench fanout}: how many events/s a hub delivers to 1, 10 and 100 concurrent clients of
 * each stream transport (SSE, long-polling, WebSocket). The hub runs as its own process (so that its CPU
 * and heap are its own); one task pings loopback targets and its events stay retained; then, for each
 * case, every client reads the whole task from cursor 0 at once. Prints events/s delivered in total, the
 * hub's CPU (100% = one core) and its live heap after the case (after a full GC: the retained task and what
 * the clients left behind). The clients run in this process, on the same
 * machine.
 */
public final class FanoutBench {

    private FanoutBench() {
    }

    public static void main(String[] args) throws Exception {
        int targets = 20;
        int count = 1000;
        int[] clients = {1, 10, 100};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--targets" -> targets = Integer.parseInt(args[++i]);
                case "--count" -> count = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: mimoping bench fanout [--targets 20] [--count 1000]");
                    System.exit(2);
                }
            }
        }
        try (JavaProcess hub = JavaProcess.hub(List.of(), List.of(),
                List.of("--retain-events", "10000000", "--retain-bytes", String.valueOf(1L << 30)));
             HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            TaskStreams streams = new TaskStreams(http, hub.port(Duration.ZERO));
            StringJoiner list = new StringJoiner("\",\"", "[\"", "\"]");
            for (int t = 0; t < targets; t++) {
                list.add("127.8." + (t / 250) + "." + (t % 250 + 1));
            }
            String id = streams.start("{\"targets\":" + list + ",\"count\":" + count + ",\"interval\":5}");
            // waits until the task has ended: its number of events
            long events = streams.read(Transport.LONG_POLL, id, 0, TaskStreams.TO_THE_END);
            System.out.printf("fanout: one task of %d events (%d loopback targets x %d probes), hub pid %d; each client"
                    + " reads it all from cursor 0%n", events, targets, count, hub.pid());
            System.out.printf("%-10s %7s %14s %12s %10s %12s%n", "transport", "clients", "events/s", "seconds",
                    "hub CPU", "live heap");
            for (Transport transport : Transport.values()) {
                for (int n : clients) {
                    Duration cpuBefore = hub.cpu();
                    long started = System.nanoTime();
                    long delivered = fanOut(streams, id, transport, n);
                    double seconds = (System.nanoTime() - started) / 1e9;
                    double cpu = (hub.cpu().minus(cpuBefore).toNanos() / 1e9) / seconds * 100;
                    if (delivered != events * n) {
                        System.out.printf("  %s x %d: delivered %d events, expected %d%n", transport, n, delivered, events * n);
                    }
                    System.out.printf("%-10s %7d %14.0f %12.2f %9.0f%% %10.0f MiB%n", transport.name().toLowerCase(), n,
                            delivered / seconds, seconds, cpu, hub.heapMiB());
                }
            }
        }
        System.exit(0);
    }

    /** {@code n} clients read the whole task at once; the events they got in total. */
    private static long fanOut(TaskStreams streams, String id, Transport transport, int n) throws Exception {
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Long>> readers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                readers.add(threads.submit(() -> streams.read(transport, id, 0, TaskStreams.TO_THE_END)));
            }
            long total = 0;
            for (Future<Long> reader : readers) {
                total += reader.get();
            }
            return total;
        }
    }
}
