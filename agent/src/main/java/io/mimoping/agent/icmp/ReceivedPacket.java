package io.mimoping.agent.icmp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One received ICMP message and what the kernel said about it. Reused for every receive: the owner
 * reads it before the next {@link IcmpSocket#receive(ReceivedPacket)}.
 */
public final class ReceivedPacket {

    final byte[] source = new byte[16];
    int sourceLength;
    ByteBuffer message;
    int offset;
    int length;
    int ttl = -1;
    long kernelTimeNanos;

    /**
     * A packet as a socket would have received it, for code that matches replies without a socket.
     *
     * @param source          sender address bytes (4 or 16)
     * @param kernelTimeNanos kernel receive time since the epoch, or 0
     */
    public static ReceivedPacket of(ByteBuffer message, int offset, int length, byte[] source, int ttl,
                                    long kernelTimeNanos) {
        ReceivedPacket packet = new ReceivedPacket();
        packet.message = message;
        packet.offset = offset;
        packet.length = length;
        System.arraycopy(source, 0, packet.source, 0, source.length);
        packet.sourceLength = source.length;
        packet.ttl = ttl;
        packet.kernelTimeNanos = kernelTimeNanos;
        return packet;
    }

    /** The buffer holding the ICMP message, from {@link #offset()} for {@link #length()} bytes. */
    public ByteBuffer message() {
        return message;
    }

    /** Index of the ICMP message's first byte in {@link #message()}. */
    public int offset() {
        return offset;
    }

    /** Bytes of the ICMP message (header included, IP header excluded). */
    public int length() {
        return length;
    }

    /** TTL or hop limit of the IP packet, -1 if the kernel did not say. */
    public int ttl() {
        return ttl;
    }

    /** Kernel receive time in nanoseconds since the epoch (SO_TIMESTAMPNS), 0 if the kernel gave none. */
    public long kernelTimeNanos() {
        return kernelTimeNanos;
    }

    /** Whether the sender's address is exactly these bytes (4 for IPv4, 16 for IPv6). */
    public boolean sourceIs(byte[] address) {
        return address.length == sourceLength && Arrays.equals(source, 0, sourceLength, address, 0, sourceLength);
    }

    /** The sender's address (allocates). */
    public InetAddress source() {
        try {
            return InetAddress.getByAddress(Arrays.copyOf(source, sourceLength));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel gave an address of " + sourceLength + " bytes", e);
        }
    }
}
