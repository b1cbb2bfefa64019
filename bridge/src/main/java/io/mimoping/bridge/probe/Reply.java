package io.mimoping.bridge.probe;

import java.net.InetAddress;
import java.time.Instant;

/**
 * An echo reply matched to the probe it answers.
 *
 * @param target   target as the user wrote it
 * @param address  address the probe was sent to (and the reply came from)
 * @param seq      probe number within its target, from 0, never truncated to 16 bits
 * @param ttl      TTL (IPv4) or hop limit (IPv6) of the reply
 * @param nbytes   bytes of the ICMP message received, header included
 * @param id       ICMP identifier of the echo request
 * @param rttNanos round-trip time in nanoseconds
 * @param sentAt   when the probe was sent
 * @param kind     whether this reply ended its probe, repeated an earlier one, or came after the timeout
 */
public record Reply(String target, InetAddress address, long seq, int ttl, int nbytes, int id, long rttNanos,
                    Instant sentAt, Kind kind) implements ProbeEvent {

    /** How a reply relates to its probe. */
    public enum Kind {
        /** The first reply to a probe still waiting: it ends the probe. */
        FIRST,
        /** A further reply to a probe already answered. */
        DUPLICATE,
        /** The first reply to a probe that had already timed out; the probe stays counted as a timeout. */
        LATE
    }
}
