package io.mimoping.agent.observe;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsTest {

    @Test
    void theScrapeIsPrometheusTextWithCumulativeBuckets() {
        Metrics metrics = new Metrics();
        Metrics.Counter sent = metrics.counter("test_sent_total", "Probes sent\nover two lines");
        metrics.gauge("test_ratio", "A ratio", () -> 0.25);
        metrics.gauge("test_nothing", "Not a number", () -> Double.NaN);
        metrics.counter("test_read_total", "Read elsewhere", () -> 7);
        Metrics.Histogram rtt = metrics.histogram("test_rtt_seconds", "RTTs", 0.0001, 0.001, 0.01, 0.1);
        sent.add(3);
        sent.increment();
        for (double value : new double[] {0.0005, 0.001, 0.005, 0.05, 5}) {
            rtt.observe(value);
        }
        String text = metrics.scrape();
        assertTrue(text.contains("# HELP test_sent_total Probes sent\\nover two lines\n# TYPE test_sent_total counter\n"
                + "test_sent_total 4\n"), text);
        assertTrue(text.contains("test_ratio 0.25\n"), text);
        assertTrue(text.contains("test_nothing NaN\n"), text);
        assertTrue(text.contains("test_read_total 7\n"), text);
        assertTrue(text.contains("test_rtt_seconds_bucket{le=\"0.0001\"} 0\n"
                + "test_rtt_seconds_bucket{le=\"0.001\"} 2\ntest_rtt_seconds_bucket{le=\"0.01\"} 3\n"
                + "test_rtt_seconds_bucket{le=\"0.1\"} 4\ntest_rtt_seconds_bucket{le=\"+Inf\"} 5\n"), text);
        assertTrue(text.contains("test_rtt_seconds_count 5\n"), text);
        assertEquals(5.0565, Double.parseDouble(text.split("test_rtt_seconds_sum ")[1].split("\n")[0]), 1e-9);
        // promtool check metrics runs on the hub's and an agent's real /metrics in SystemdProcessTest (hub module).
    }

    @Test
    void labelledSeriesComeInTheirOrderWithEscapedValues() {
        Metrics metrics = new Metrics();
        SequencedMap<String, DoubleSupplier> open = new LinkedHashMap<>();
        open.put("sse", () -> 2);
        open.put("a\"b", () -> 0);
        metrics.gauge("test_streams", "Streams", "transport", open);
        metrics.counter("test_streams_total", "Streams opened", "transport", new LinkedHashMap<>(Map.of("sse", () -> 5)));
        assertEquals("# HELP test_streams Streams\n# TYPE test_streams gauge\ntest_streams{transport=\"sse\"} 2\n"
                + "test_streams{transport=\"a\\\"b\"} 0\n# HELP test_streams_total Streams opened\n"
                + "# TYPE test_streams_total counter\ntest_streams_total{transport=\"sse\"} 5\n", metrics.scrape());
        assertEquals("not a label name: 'trans-port'", assertThrows(IllegalArgumentException.class,
                () -> metrics.gauge("test_other", "o", "trans-port", open)).getMessage());
    }

    @Test
    void namesAreChecked() {
        Metrics metrics = new Metrics();
        metrics.counter("test_a_total", "a");
        assertEquals("metric 'test_a_total' is registered twice",
                assertThrows(IllegalArgumentException.class, () -> metrics.counter("test_a_total", "a")).getMessage());
        assertEquals("a counter's name ends with _total: 'test_b'",
                assertThrows(IllegalArgumentException.class, () -> metrics.counter("test_b", "b")).getMessage());
        assertEquals("not a metric name: 'test-c'",
                assertThrows(IllegalArgumentException.class, () -> metrics.gauge("test-c", "c", () -> 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> metrics.histogram("test_h", "h", 1, 1));
    }
}
