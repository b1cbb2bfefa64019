package io.mimoping.agent.bench;

/** Nearest-rank percentiles of sorted values (the hub's benchmarks use them too). */
public final class Percentiles {

    private Percentiles() {
    }

    public static long of(long[] sorted, double percent) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(percent * sorted.length / 100.0);
        return sorted[Math.max(rank, 1) - 1];
    }

    public static double mean(long[] values) {
        if (values.length == 0) {
            return 0;
        }
        double sum = 0;
        for (long v : values) {
            sum += v;
        }
        return sum / values.length;
    }
}
