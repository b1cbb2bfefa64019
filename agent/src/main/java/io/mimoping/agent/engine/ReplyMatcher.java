package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.ReceivedPacket;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Ties a received ICMP message to the one probe it answers, or to none. A reply counts only if every
 * part agrees: echo-reply type and code 0, a valid checksum where the kernel did not check it, the
 * socket's identifier, this engine's cookie, a key of a probe still remembered, that probe's 16-bit
 * sequence number and its target's address. Anything else (other programs' ICMP, corrupted or forged
 * replies) is ignored and counted. Owned by the engine thread.
 */
final class ReplyMatcher {

    private final long cookie;
    private final Map<Long, Probe> probes = new HashMap<>();
    private long ignored;

    ReplyMatcher(long cookie) {
        this.cookie = cookie;
    }

    long cookie() {
        return cookie;
    }

    void remember(Probe probe) {
        probes.put(probe.key, probe);
    }

    void forget(Probe probe) {
        probes.remove(probe.key);
    }

    /** Probes remembered now (sent and not yet forgotten). */
    int remembered() {
        return probes.size();
    }

    /** Messages that matched no probe. */
    long ignored() {
        return ignored;
    }

    /**
     * @param family         the family of the socket the packet came from
     * @param expectedId     the identifier the socket's echo requests carry
     * @param verifyChecksum whether to check the ICMP checksum (the kernel does not for raw IPv4)
     * @return the probe, or {@code null} if the packet answers none of ours
     */
    Probe match(ReceivedPacket packet, IcmpFamily family, int expectedId, boolean verifyChecksum) {
        Probe probe = find(packet, family, expectedId, verifyChecksum);
        if (probe == null) {
            ignored++;
        }
        return probe;
    }

    private Probe find(ReceivedPacket packet, IcmpFamily family, int expectedId, boolean verifyChecksum) {
        ByteBuffer message = packet.message();
        int at = packet.offset();
        int length = packet.length();
        if (length < IcmpEcho.HEADER + IcmpEcho.TAG
                || IcmpEcho.type(message, at) != family.echoReply()
                || message.get(at + 1) != 0
                || (verifyChecksum && IcmpEcho.checksum(message, at, length) != 0)
                || IcmpEcho.id(message, at) != expectedId
                || IcmpEcho.cookie(message, at) != cookie) {
            return null;
        }
        Probe probe = probes.get(IcmpEcho.key(message, at));
        if (probe == null
                || IcmpEcho.seq(message, at) != (int) (probe.seq & 0xffff)
                || !packet.sourceIs(probe.target.addressBytes)) {
            return null;
        }
        return probe;
    }
}
