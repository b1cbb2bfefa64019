package io.mimoping.agent.icmp;

import java.nio.ByteBuffer;

/**
 * ICMP echo messages: encoding, field access and the Internet checksum (RFC 1071).
 * Works on the ICMP message alone (no IP header); positions are relative to the buffer's position.
 *
 * <p>Layout: type, code, checksum, identifier, sequence (8 bytes), then the payload. mimoping's payload
 * starts with a 64-bit cookie and a 64-bit probe key, which tie a reply to exactly one probe; the rest
 * is a fill pattern.
 */
public final class IcmpEcho {

    /** Bytes of the ICMP echo header. */
    public static final int HEADER = 8;
    /** Payload bytes mimoping needs to match a reply: cookie and key. */
    public static final int TAG = 16;

    private IcmpEcho() {
    }

    /**
     * Writes an echo message at the buffer's position and leaves the position after it.
     *
     * @param type    ICMP type ({@link IcmpFamily#echoRequest()} or {@link IcmpFamily#echoReply()})
     * @param id      16-bit identifier
     * @param seq     16-bit sequence number
     * @param cookie  64-bit value identifying the sender
     * @param key     64-bit value identifying the probe
     * @param payload payload bytes, at least {@link #TAG}
     */
    public static void write(ByteBuffer out, int type, int id, int seq, long cookie, long key, int payload) {
        if (payload < TAG) {
            throw new IllegalArgumentException("payload shorter than " + TAG + " bytes: " + payload);
        }
        int start = out.position();
        out.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq);
        out.putLong(cookie).putLong(key);
        for (int i = TAG; i < payload; i++) {
            out.put((byte) i);
        }
        out.putShort(start + 2, (short) checksum(out, start, HEADER + payload));
    }

    /**
     * The Internet checksum of {@code length} bytes from absolute index {@code from}: the ones' complement
     * of the ones' complement sum of 16-bit words. A message with a correct checksum sums to 0.
     */
    public static int checksum(ByteBuffer buffer, int from, int length) {
        long sum = 0;
        int i = from;
        int end = from + length;
        for (; i + 1 < end; i += 2) {
            sum += buffer.getShort(i) & 0xffff;
        }
        if (i < end) {
            sum += (buffer.get(i) & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** ICMP type at absolute index {@code at}. */
    public static int type(ByteBuffer message, int at) {
        return message.get(at) & 0xff;
    }

    /** Identifier of the message at absolute index {@code at}. */
    public static int id(ByteBuffer message, int at) {
        return message.getShort(at + 4) & 0xffff;
    }

    /** Sequence number of the message at absolute index {@code at}. */
    public static int seq(ByteBuffer message, int at) {
        return message.getShort(at + 6) & 0xffff;
    }

    /** Cookie of the message at absolute index {@code at}; the caller checks the length first. */
    public static long cookie(ByteBuffer message, int at) {
        return message.getLong(at + HEADER);
    }

    /** Probe key of the message at absolute index {@code at}; the caller checks the length first. */
    public static long key(ByteBuffer message, int at) {
        return message.getLong(at + HEADER + 8);
    }
}
