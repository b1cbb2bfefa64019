package io.mimoping.agent.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs fping, the reference, on a target file and reads what it measured: with {@code -C} it prints one
 * line per target with each probe's RTT in ms ({@code -} for none). Its CPU time comes from the shell's
 * {@code times} builtin (the children's user and system time), so it is exact and needs no native code.
 */
final class Fping {

    private static final Pattern TIMES = Pattern.compile("(\\d+)m([\\d.]+)s\\s+(\\d+)m([\\d.]+)s");

    /**
     * What one fping run did.
     *
     * @param sent       probes it sent (targets × count, when it ran to the end)
     * @param received   replies it reported
     * @param sortedRtts RTTs in nanoseconds, sorted
     * @param wallNanos  from start to exit
     * @param cpuNanos   user + system CPU time
     * @param exit       its exit status
     * @param message    its first line of output that is no result (an error), or empty
     */
    record Result(long sent, long received, long[] sortedRtts, long wallNanos, long cpuNanos, int exit, String message) {
    }

    private Fping() {
    }

    static boolean installed() {
        try {
            Process p = new ProcessBuilder("fping", "-v").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Runs {@code fping OPTIONS < targets}; {@code onResultLine} is told how many result lines came so far.
     */
    static Result run(Path targets, List<String> options, int count, LongConsumer onResultLine)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("sh", "-c", "fping \"$@\" < \"$0\"; s=$?; times; exit $s",
                targets.toString()));
        command.addAll(options);
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        long sent = 0;
        long received = 0;
        long[] rtts = new long[1024];
        String message = "";
        long lines = 0;
        try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = err.readLine()) != null) {
                int colon = line.indexOf(" : ");
                if (colon < 0) {
                    if (message.isEmpty()) {
                        message = line.strip();
                    }
                    continue;
                }
                String[] values = line.substring(colon + 3).trim().split("\\s+");
                if (values.length != count) {
                    if (message.isEmpty()) {
                        message = line.strip();
                    }
                    continue;
                }
                for (String value : values) {
                    sent++;
                    if (!value.equals("-")) {
                        if (received == rtts.length) {
                            rtts = Arrays.copyOf(rtts, rtts.length * 2);
                        }
                        rtts[(int) received++] = Math.round(Double.parseDouble(value) * 1_000_000);
                    }
                }
                onResultLine.accept(++lines);
            }
        }
        int exit = process.waitFor();
        long wall = System.nanoTime() - start;
        long cpu = 0;
        Matcher times = TIMES.matcher(stdout.join().lines().skip(1).findFirst().orElse(""));
        if (times.find()) {
            cpu = seconds(times.group(1), times.group(2)) + seconds(times.group(3), times.group(4));
        }
        long[] sorted = Arrays.copyOf(rtts, (int) received);
        Arrays.sort(sorted);
        return new Result(sent, received, sorted, wall, cpu, exit, message);
    }

    private static long seconds(String minutes, String seconds) {
        return Math.round((Long.parseLong(minutes) * 60 + Double.parseDouble(seconds)) * 1e9);
    }
}
