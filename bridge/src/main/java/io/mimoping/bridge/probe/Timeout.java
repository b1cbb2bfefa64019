package io.mimoping.bridge.probe;

import java.net.InetAddress;
import java.time.Instant;

/**
 * No reply within the probe's own timeout.
 *
 * @param target  target as the user wrote it
 * @param address address the probe was sent to
 * @param seq     probe number within its target, from 0
 * @param sentAt  when the probe was sent
 */
public record Timeout(String target, InetAddress address, long seq, Instant sentAt) implements ProbeEvent {
}
