package io.mimoping.agent.observe;

import io.helidon.common.buffers.DataReader;

import java.util.logging.Filter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Keeps clients that hang up out of the operator's log. Helidon logs a WARNING with a stack trace when a
 * client closes its connection before it has sent what it began (connect and close, half a request line or
 * header, a body shorter than its {@code Content-Length}): its reader throws
 * {@link DataReader.InsufficientDataAvailableException}, and {@code ConnectionHandler} ("unexpected
 * exception"), {@code Http1Connection} and {@code DirectHandlers} ("Internal server error") log it. Such a
 * record becomes one line at {@link Level#FINE} on the same logger (so it shows only where the operator turned
 * FINE on); every other record passes as it is.
 */
public final class HangUpFilter implements Filter {

    /** Fills in a record's parameters, as the handlers' formatters do. */
    private static final SimpleFormatter MESSAGES = new SimpleFormatter();

    private final Filter next;

    /** @param next the filter the handler had before, or {@code null} */
    HangUpFilter(Filter next) {
        this.next = next;
    }

    /** Puts the filter on every handler of the root logger, before the filter each already has. */
    public static void install() {
        for (Handler handler : LogManager.getLogManager().getLogger("").getHandlers()) {
            if (!(handler.getFilter() instanceof HangUpFilter)) {
                handler.setFilter(new HangUpFilter(handler.getFilter()));
            }
        }
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        if (record.getLevel().intValue() > Level.FINE.intValue() && hungUp(record.getThrown())) {
            Logger logger = Logger.getLogger(record.getLoggerName() == null ? "" : record.getLoggerName());
            if (logger.isLoggable(Level.FINE)) {
                String message = record.getMessage() == null ? "" : MESSAGES.formatMessage(record) + ": ";
                logger.fine(message + "the client hung up before its request was complete");
            }
            return false;
        }
        return next == null || next.isLoggable(record);
    }

    /** Whether the exception, or one of its causes, is a read that found the connection closed by the client. */
    static boolean hungUp(Throwable thrown) {
        for (Throwable cause = thrown; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof DataReader.InsufficientDataAvailableException) {
                return true;
            }
        }
        return false;
    }
}
