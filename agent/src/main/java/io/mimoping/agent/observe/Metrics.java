package io.mimoping.agent.observe;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

/**
 * A process's metrics, written in the Prometheus text exposition format (version 0.0.4). Small on
 * purpose: counters, gauges read when scraped (either one series, or one per value of a single label), and
 * fixed-bucket histograms without labels; writers never
 * lock (adders), the scrape reads a moment's values. Register everything at start, from one thread.
 */
public final class Metrics {

    /** The {@code Content-Type} of {@link #scrape()}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    /** A count that only goes up. */
    public static final class Counter {

        private final LongAdder value = new LongAdder();

        public void increment() {
            value.increment();
        }

        public void add(long amount) {
            value.add(amount);
        }

        public long value() {
            return value.sum();
        }
    }

    /** Observations counted into fixed buckets (upper bounds, inclusive), with their sum. */
    public static final class Histogram {

        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();

        private Histogram(double[] bounds) {
            this.bounds = bounds.clone();
            this.counts = new LongAdder[bounds.length + 1];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        public void observe(double value) {
            int i = 0;
            while (i < bounds.length && value > bounds[i]) {
                i++;
            }
            counts[i].increment();
            sum.add(value);
        }
    }

    private sealed interface Family {
        String name();

        String help();
    }

    /** @param series each series' value by its label set ({@code ""}, or such as <code>{transport="sse"}</code>) */
    private record CounterFamily(String name, String help, Map<String, DoubleSupplier> series) implements Family {
    }

    /** @param series as in {@link CounterFamily} */
    private record GaugeFamily(String name, String help, Map<String, DoubleSupplier> series) implements Family {
    }

    private record HistogramFamily(String name, String help, Histogram histogram) implements Family {
    }

    private final List<Family> families = new ArrayList<>();

    /** A counter this registry owns; its name ends with {@code _total}. */
    public Counter counter(String name, String help) {
        Counter counter = new Counter();
        counter(name, help, counter::value);
        return counter;
    }

    /** A counter kept elsewhere (such as the engine's own counters), read at each scrape. */
    public void counter(String name, String help, DoubleSupplier value) {
        add(new CounterFamily(checkCounter(name), help, Map.of("", value)));
    }

    /** Counters kept elsewhere, one series per value of {@code label}, in the order of {@code values}. */
    public void counter(String name, String help, String label, SequencedMap<String, DoubleSupplier> values) {
        add(new CounterFamily(checkCounter(name), help, labelled(label, values)));
    }

    /** A value that goes up and down, read at each scrape. */
    public void gauge(String name, String help, DoubleSupplier value) {
        add(new GaugeFamily(name, help, Map.of("", value)));
    }

    /** Gauges, one series per value of {@code label}, in the order of {@code values}. */
    public void gauge(String name, String help, String label, SequencedMap<String, DoubleSupplier> values) {
        add(new GaugeFamily(name, help, labelled(label, values)));
    }

    /** A histogram with these bucket upper bounds, strictly increasing ({@code +Inf} is added). */
    public Histogram histogram(String name, String help, double... bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (!(bounds[i] > bounds[i - 1])) {
                throw new IllegalArgumentException(name + ": bucket bounds must increase: " + bounds[i - 1] + ", " + bounds[i]);
            }
        }
        Histogram histogram = new Histogram(bounds);
        add(new HistogramFamily(name, help, histogram));
        return histogram;
    }

    /** Every metric now, in the text exposition format, in the order registered. */
    public String scrape() {
        StringBuilder out = new StringBuilder(4096);
        List<Family> snapshot;
        synchronized (families) {
            snapshot = List.copyOf(families);
        }
        for (Family family : snapshot) {
            out.append("# HELP ").append(family.name()).append(' ').append(escape(family.help())).append('\n');
            switch (family) {
                case CounterFamily(String name, String help, Map<String, DoubleSupplier> series) ->
                        samples(out.append("# TYPE ").append(name).append(" counter\n"), name, series);
                case GaugeFamily(String name, String help, Map<String, DoubleSupplier> series) ->
                        samples(out.append("# TYPE ").append(name).append(" gauge\n"), name, series);
                case HistogramFamily(String name, String help, Histogram histogram) -> {
                    out.append("# TYPE ").append(name).append(" histogram\n");
                    long cumulative = 0;
                    for (int i = 0; i < histogram.counts.length; i++) {
                        cumulative += histogram.counts[i].sum();
                        String le = i < histogram.bounds.length ? number(histogram.bounds[i]) : "+Inf";
                        sample(out, name + "_bucket", "{le=\"" + le + "\"}", cumulative);
                    }
                    sample(out, name + "_sum", "", histogram.sum.sum());
                    sample(out, name + "_count", "", cumulative);
                }
            }
        }
        return out.toString();
    }

    private void add(Family family) {
        if (!NAME.matcher(family.name()).matches()) {
            throw new IllegalArgumentException("not a metric name: '" + family.name() + "'");
        }
        synchronized (families) {
            if (families.stream().anyMatch(f -> f.name().equals(family.name()))) {
                throw new IllegalArgumentException("metric '" + family.name() + "' is registered twice");
            }
            families.add(family);
        }
    }

    private static String checkCounter(String name) {
        if (!name.endsWith("_total")) {
            throw new IllegalArgumentException("a counter's name ends with _total: '" + name + "'");
        }
        return name;
    }

    private static SequencedMap<String, DoubleSupplier> labelled(String label, SequencedMap<String, DoubleSupplier> values) {
        if (!LABEL.matcher(label).matches()) {
            throw new IllegalArgumentException("not a label name: '" + label + "'");
        }
        SequencedMap<String, DoubleSupplier> series = new LinkedHashMap<>();
        values.forEach((value, supplier) -> series.put("{" + label + "=\"" + value.replace("\\", "\\\\")
                .replace("\"", "\\\"").replace("\n", "\\n") + "\"}", supplier));
        return Collections.unmodifiableSequencedMap(series);
    }

    private static void samples(StringBuilder out, String name, Map<String, DoubleSupplier> series) {
        series.forEach((labels, value) -> sample(out, name, labels, value.getAsDouble()));
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        out.append(name).append(labels).append(' ').append(number(value)).append('\n');
    }

    private static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "+Inf" : "-Inf";
        }
        // plain decimals, as other clients write them: a bucket's le="0.0001", never "1.0E-4", which a selector
        // written as {le="0.0001"} would not find
        return Double.isNaN(value) ? "NaN" : BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    private static String escape(String help) {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }
}
