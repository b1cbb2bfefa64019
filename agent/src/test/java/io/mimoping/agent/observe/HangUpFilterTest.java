package io.mimoping.agent.observe;

import io.helidon.common.buffers.DataReader;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client's hang-up becomes one FINE line; every other record, real errors first, passes untouched. */
class HangUpFilterTest {

    private final String name = "test.hangup." + Integer.toHexString(ThreadLocalRandom.current().nextInt());
    private final Logger logger = Logger.getLogger(name);
    private final List<LogRecord> fine = new CopyOnWriteArrayList<>();

    HangUpFilterTest() {
        logger.setUseParentHandlers(false);
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                fine.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    private LogRecord record(Level level, String message, Throwable thrown) {
        LogRecord record = new LogRecord(level, message);
        record.setLoggerName(name);
        record.setThrown(thrown);
        return record;
    }

    /** As Http1Connection logs a client that closed inside its headers: the hang-up is the cause. */
    private static RuntimeException hangUp() {
        return new IllegalStateException("Internal error", new DataReader.InsufficientDataAvailableException());
    }

    @Test
    void aHangUpIsOneFineLineWhereFineIsOnAndNothingElsewhere() {
        HangUpFilter filter = new HangUpFilter(null);
        logger.setLevel(Level.INFO);
        assertFalse(filter.isLoggable(record(Level.WARNING, "[0x1 0x2] unexpected exception", hangUp())));
        assertEquals(List.of(), fine, "FINE is off for that logger");

        logger.setLevel(Level.FINE);
        assertFalse(filter.isLoggable(record(Level.WARNING, "[0x1 0x2] unexpected exception", hangUp())));
        assertEquals(1, fine.size());
        LogRecord line = fine.getFirst();
        assertEquals(Level.FINE, line.getLevel());
        assertEquals("[0x1 0x2] unexpected exception: the client hung up before its request was complete",
                line.getMessage());
        assertNull(line.getThrown(), "no stack trace");
        assertTrue(filter.isLoggable(line), "the FINE line itself passes");
    }

    @Test
    void realErrorsPassAsTheyAreAndTheFilterBeforeItStillDecides() {
        HangUpFilter filter = new HangUpFilter(null);
        assertTrue(filter.isLoggable(record(Level.WARNING, "unexpected exception", new IllegalStateException("a bug"))));
        assertTrue(filter.isLoggable(record(Level.SEVERE, "accept failed",
                new UncheckedIOException(new SocketException("Too many open files")))));
        assertTrue(filter.isLoggable(record(Level.INFO, "no exception", null)));
        assertEquals(List.of(), fine);

        HangUpFilter behindRefusing = new HangUpFilter(record -> !record.getMessage().startsWith("secret"));
        assertFalse(behindRefusing.isLoggable(record(Level.WARNING, "secret", new IllegalStateException())));
        assertTrue(behindRefusing.isLoggable(record(Level.WARNING, "public", new IllegalStateException())));
    }
}
