package io.mimoping.bridge.probe;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Statistics of one target when it finishes. Stores what was measured; everything else is derived.
 *
 * @param target     target as the user wrote it
 * @param address    resolved address, or {@code null} if the target never got one
 * @param sent       probes sent
 * @param received   probes answered in time (duplicates and late replies not counted)
 * @param duplicates duplicate replies
 * @param rttNanos   RTT of each probe answered in time, in probe order
 * @param ttls       TTL of each of those replies, in the same order
 */
public record TargetStats(String target, InetAddress address, long sent, long received, long duplicates,
                          List<Long> rttNanos, List<Integer> ttls) implements ProbeEvent {

    public TargetStats {
        rttNanos = List.copyOf(rttNanos);
        ttls = List.copyOf(ttls);
        if (rttNanos.size() != received || ttls.size() != received) {
            throw new IllegalArgumentException("one RTT and one TTL per reply: received=" + received
                    + ", rtts=" + rttNanos.size() + ", ttls=" + ttls.size());
        }
    }

    /** Lost probes in percent of those sent; 0 when none was sent. */
    public double lossPercent() {
        return sent == 0 ? 0 : 100.0 * (sent - received) / sent;
    }

    /** Smallest RTT in nanoseconds, 0 without replies. */
    public long minNanos() {
        return rttNanos.stream().mapToLong(Long::longValue).min().orElse(0);
    }

    /** Largest RTT in nanoseconds, 0 without replies. */
    public long maxNanos() {
        return rttNanos.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** Mean RTT in nanoseconds, 0 without replies. */
    public double meanNanos() {
        return rttNanos.stream().mapToLong(Long::longValue).average().orElse(0);
    }

    /** Population standard deviation of the RTTs in nanoseconds (as ping's mdev), 0 without replies. */
    public double stdDevNanos() {
        if (rttNanos.isEmpty()) {
            return 0;
        }
        double mean = meanNanos();
        double squares = 0;
        for (long rtt : rttNanos) {
            squares += (rtt - mean) * (rtt - mean);
        }
        return Math.sqrt(squares / rttNanos.size());
    }

    /** Jitter: mean absolute difference of consecutive RTTs in nanoseconds, 0 with fewer than two replies. */
    public double jitterNanos() {
        if (rttNanos.size() < 2) {
            return 0;
        }
        long sum = 0;
        for (int i = 1; i < rttNanos.size(); i++) {
            sum += Math.abs(rttNanos.get(i) - rttNanos.get(i - 1));
        }
        return (double) sum / (rttNanos.size() - 1);
    }

    /**
     * Percentile of the RTTs by the nearest-rank method (a measured value, never interpolated).
     *
     * @param percent between 0 (exclusive) and 100 (inclusive)
     * @return the RTT in nanoseconds, 0 without replies
     */
    public long percentileNanos(double percent) {
        return percentilesNanos(percent)[0];
    }

    /** Several percentiles as {@link #percentileNanos}, in the order asked, sorting the RTTs once. */
    public long[] percentilesNanos(double... percents) {
        for (double percent : percents) {
            if (!(percent > 0 && percent <= 100)) {
                throw new IllegalArgumentException("percentile out of (0, 100]: " + percent);
            }
        }
        long[] values = new long[percents.length];
        if (rttNanos.isEmpty()) {
            return values;
        }
        long[] sorted = rttNanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        for (int i = 0; i < percents.length; i++) {
            // percent * n first: exact for whole percents, where (percent / 100) * n can land just above
            // an integer (7 / 100.0 * 100 = 7.000000000000001) and pick the next rank.
            int rank = (int) Math.ceil(percents[i] * sorted.length / 100.0);
            values[i] = sorted[Math.max(rank, 1) - 1];
        }
        return values;
    }
}
