package io.mimoping.hub.observe;

import io.mimoping.agent.observe.Metrics;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * The clients reading a task's events now, counted by the transports themselves from the stream's start
 * to its end: {@code mimoping_client_streams{transport=…}} (open now) and {@code mimoping_client_streams_total}
 * (opened). A request that is refused, or only asks about a task, is no stream.
 */
public final class ClientStreams {

    /** How a client reads a task's events. */
    public enum Transport {
        /** {@code POST /ping-task}. */
        NDJSON,
        /** {@code GET /tasks/{id}/events} with {@code Accept: text/event-stream}. */
        SSE,
        /** {@code GET /tasks/{id}/events?wait=…} otherwise: each poll that may wait is one stream. */
        LONGPOLL,
        /** {@code /tasks/{id}/ws}, from open to close. */
        WEBSOCKET,
        /** gRPC {@code RunTask}. */
        GRPC;

        /** The value of the {@code transport} label. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One client's stream: closing it (once counts, again does nothing) ends it. */
    public final class Stream implements AutoCloseable {

        private final Transport transport;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Stream(Transport transport) {
            this.transport = transport;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                open.get(transport).decrementAndGet();
            }
        }
    }

    private final Map<Transport, AtomicInteger> open = new EnumMap<>(Transport.class);
    private final Map<Transport, LongAdder> opened = new EnumMap<>(Transport.class);
    private final LongAdder cut = new LongAdder();

    public ClientStreams() {
        for (Transport transport : Transport.values()) {
            open.put(transport, new AtomicInteger());
            opened.put(transport, new LongAdder());
        }
    }

    /** Adds the two metrics, a series per transport, to {@code metrics}. */
    public void register(Metrics metrics) {
        metrics.gauge("mimoping_client_streams", "Clients reading a task's events now, by transport", "transport",
                series(transport -> open.get(transport)::get));
        metrics.counter("mimoping_client_streams_total", "Clients that started reading a task's events, by transport",
                "transport", series(transport -> opened.get(transport)::sum));
    }

    /** A client starts reading events over {@code transport}; close what this returns when it stops. */
    public Stream open(Transport transport) {
        open.get(transport).incrementAndGet();
        opened.get(transport).increment();
        return new Stream(transport);
    }

    /** A client that took nothing for too long was cut off (its connection closed). */
    public void cutOff() {
        cut.increment();
    }

    /** Clients cut off since start, as {@code mimoping_connections_closed_total{reason="slow_reader"}} counts them. */
    public double slowReadersCut() {
        return cut.sum();
    }

    /** Streams open now, over every transport. */
    public int count() {
        return open.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private static SequencedMap<String, DoubleSupplier> series(Function<Transport, DoubleSupplier> value) {
        SequencedMap<String, DoubleSupplier> series = new LinkedHashMap<>();
        for (Transport transport : Transport.values()) {
            series.put(transport.label(), value.apply(transport));
        }
        return series;
    }
}
