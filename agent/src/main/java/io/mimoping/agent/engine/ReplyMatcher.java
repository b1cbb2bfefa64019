package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.ReceivedPacket;

import java.nio.ByteBuffer;

/**
 * Ties a received ICMP message to the one probe it answers, or to none. A reply counts only if every
 * part agrees: echo-reply type and code 0, a valid checksum where the kernel did not check it, the
 * socket's identifier, this engine's cookie, the key of a probe in flight (slot and generation, see
 * {@link SlotTable}), that probe's sequence number in 16 bits and its target's address. Anything else
 * (other programs' ICMP, corrupted or forged replies) is ignored and counted. The lookup is O(1) and
 * allocates nothing; the 16-bit wire sequence number sets no limit, as the key tells probes apart.
 * Owned by one engine shard thread.
 */
final class ReplyMatcher {

    private final long cookie;
    private long ignored;

    ReplyMatcher(long cookie) {
        this.cookie = cookie;
    }

    long cookie() {
        return cookie;
    }

    /** Messages that matched no probe. */
    long ignored() {
        return ignored;
    }

    /**
     * @param family         the family of the socket the packet came from
     * @param expectedId     the identifier the socket's echo requests carry
     * @param verifyChecksum whether to check the ICMP checksum (the kernel does not for raw IPv4)
     * @return the probe's slot, or -1 if the packet answers none of ours
     */
    int match(ReceivedPacket packet, IcmpFamily family, int expectedId, boolean verifyChecksum, SlotTable slots) {
        int slot = find(packet, family, expectedId, verifyChecksum, slots);
        if (slot < 0) {
            ignored++;
        }
        return slot;
    }

    private int find(ReceivedPacket packet, IcmpFamily family, int expectedId, boolean verifyChecksum,
                     SlotTable slots) {
        ByteBuffer message = packet.message();
        int at = packet.offset();
        int length = packet.length();
        if (length < IcmpEcho.HEADER + IcmpEcho.TAG
                || IcmpEcho.type(message, at) != family.echoReply()
                || message.get(at + 1) != 0
                || (verifyChecksum && IcmpEcho.checksum(message, at, length) != 0)
                || IcmpEcho.id(message, at) != expectedId
                || IcmpEcho.cookie(message, at) != cookie) {
            return -1;
        }
        int slot = slots.find(IcmpEcho.key(message, at));
        if (slot < 0
                || IcmpEcho.seq(message, at) != (int) (slots.seq[slot] & 0xffff)
                || !packet.sourceIs(slots.part[slot].addressBytes[slots.target[slot]])) {
            return -1;
        }
        return slot;
    }
}
