package io.mimoping.bridge.probe;

import java.time.Duration;

/**
 * Counts of a finished task (or of one pinging side's part of it).
 * Every probe sent is exactly one of received or timed out, unless an error named it.
 *
 * @param sent     probes sent
 * @param received probes answered in time
 * @param timeouts probes not answered in time
 * @param errors   error events
 * @param duration from start to finish
 */
public record TaskTotals(long sent, long received, long timeouts, long errors, Duration duration) {
}
