package io.mimoping.agent.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One measured run, as a table row and a JSON object.
 *
 * @param tool       "fping" or "mimoping"
 * @param run        which repetition, from 1
 * @param targets    targets probed
 * @param count      probes per target
 * @param sent       probes sent
 * @param received   replies in time
 * @param wallNanos  from start to end of the run
 * @param cpuNanos   CPU time of the tool's process (or, for mimoping, of the JVM) during the run
 * @param sortedRtts RTTs, sorted, nanoseconds
 * @param extra      tool-specific figures
 */
record Row(String tool, int run, int targets, int count, long sent, long received, long wallNanos, long cpuNanos,
           long[] sortedRtts, Map<String, Object> extra) {

    double rate() {
        return wallNanos == 0 ? 0 : sent * 1e9 / wallNanos;
    }

    double lossPercent() {
        return sent == 0 ? 0 : 100.0 * (sent - received) / sent;
    }

    double cpuPercent() {
        return wallNanos == 0 ? 0 : 100.0 * cpuNanos / wallNanos;
    }

    double cpuMicrosPerProbe() {
        return sent == 0 ? 0 : cpuNanos / 1e3 / sent;
    }

    double medianMicros() {
        return Percentiles.of(sortedRtts, 50) / 1e3;
    }

    double p99Micros() {
        return Percentiles.of(sortedRtts, 99) / 1e3;
    }

    static String header() {
        return String.format(Locale.ROOT, "%-9s %3s %9s %10s %10s %7s %10s %9s %7s %9s", "tool", "run", "targets",
                "probes", "probes/s", "loss %", "median µs", "p99 µs", "CPU %", "CPU µs/p");
    }

    String line() {
        return String.format(Locale.ROOT, "%-9s %3d %9d %10d %10.0f %7.2f %10.1f %9.1f %7.1f %9.2f", tool, run, targets,
                sent, rate(), lossPercent(), medianMicros(), p99Micros(), cpuPercent(), cpuMicrosPerProbe());
    }

    Map<String, Object> json() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("tool", tool);
        map.put("run", run);
        map.put("targets", targets);
        map.put("count", count);
        map.put("sent", sent);
        map.put("received", received);
        map.put("wall_ms", wallNanos / 1e6);
        map.put("probes_per_s", Math.round(rate()));
        map.put("loss_percent", lossPercent());
        map.put("median_rtt_us", medianMicros());
        map.put("p99_rtt_us", p99Micros());
        map.put("cpu_percent", cpuPercent());
        map.put("cpu_us_per_probe", cpuMicrosPerProbe());
        map.putAll(extra);
        return map;
    }
}
