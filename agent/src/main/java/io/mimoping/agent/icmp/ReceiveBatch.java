package io.mimoping.agent.icmp;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Up to {@code capacity} queued ICMP messages read with one {@code recvmmsg} call into reusable off-heap
 * memory, with what the kernel said about each (sender, TTL, receive timestamp) and its drop counter
 * (SO_RXQ_OVFL). Nothing is allocated per message. Owned by one thread.
 */
public final class ReceiveBatch implements AutoCloseable {

    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;
    private static final int NAME = 32;
    private static final int CONTROL = 256;
    /** The largest IP datagram: nothing is ever truncated. */
    private static final int BUFFER = 65_536;

    private final int capacity;
    private final Memory memory;
    private final ByteBuffer headers;
    private final ControlMessages messages;
    private final ByteBuffer packets;
    private final int nameAt;
    private final int controlAt;
    private final Pointer first;
    private int received;
    private long drops;

    public ReceiveBatch(int capacity) {
        this.capacity = capacity;
        int iovAt = capacity * MMSGHDR;
        nameAt = iovAt + capacity * IOVEC;
        controlAt = nameAt + capacity * NAME;
        int headerBytes = controlAt + capacity * CONTROL;
        memory = new Memory(headerBytes + (long) capacity * BUFFER);
        memory.clear(headerBytes);
        headers = memory.getByteBuffer(0, headerBytes).order(ByteOrder.nativeOrder());
        messages = new ControlMessages(headers);
        packets = memory.getByteBuffer(headerBytes, (long) capacity * BUFFER).order(ByteOrder.BIG_ENDIAN);
        long base = Pointer.nativeValue(memory);
        for (int i = 0; i < capacity; i++) {
            int header = i * MMSGHDR;
            int iov = iovAt + i * IOVEC;
            headers.putLong(iov, base + headerBytes + (long) i * BUFFER);
            headers.putLong(iov + 8, BUFFER);
            headers.putLong(header, base + nameAt + (long) i * NAME);
            headers.putLong(header + 16, base + iov);
            headers.putLong(header + 24, 1);
            headers.putLong(header + 32, base + controlAt + (long) i * CONTROL);
        }
        first = memory;
    }

    /**
     * Reads the messages queued on a socket, up to the batch's capacity, without waiting.
     *
     * @return how many were read; 0 if none was queued
     */
    public int receive(IcmpSocket socket) {
        for (int i = 0; i < capacity; i++) {
            int header = i * MMSGHDR;
            headers.putInt(header + 8, NAME);
            headers.putLong(header + 40, CONTROL);
            headers.putInt(header + 48, 0);
        }
        int n = LibC.recvmmsg(socket.fd(), first, capacity, LibC.MSG_DONTWAIT, null);
        if (n < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                received = 0;
                return 0;
            }
            throw Errno.failure("recvmmsg", errno);
        }
        received = n;
        for (int i = 0; i < n; i++) {
            scanForDrops(i);
        }
        return n;
    }

    /** Messages the last {@link #receive} read. */
    public int size() {
        return received;
    }

    /**
     * The kernel's count of messages it dropped on this socket for a full receive buffer, as last reported
     * (it comes with each message once {@link IcmpSocket#countDrops()} is on).
     */
    public long drops() {
        return drops;
    }

    /** Fills {@code into} with message {@code i} of the last {@link #receive}, from a socket of this kind. */
    public void packet(int i, IcmpFamily family, IcmpSocket.Mode mode, ReceivedPacket into) {
        int header = i * MMSGHDR;
        int length = headers.getInt(header + 56);
        int start = (int) ((long) i * BUFFER);
        int name = nameAt + i * NAME;
        if (family == IcmpFamily.V4) {
            for (int b = 0; b < 4; b++) {
                into.source[b] = headers.get(name + 4 + b);
            }
            into.sourceLength = 4;
        } else {
            for (int b = 0; b < 16; b++) {
                into.source[b] = headers.get(name + 8 + b);
            }
            into.sourceLength = 16;
        }
        into.message = packets;
        into.ttl = -1;
        into.kernelTimeNanos = 0;
        readControl(i, into);
        if (family == IcmpFamily.V4 && mode == IcmpSocket.Mode.RAW && length > 0) {
            int ihl = (packets.get(start) & 0x0f) * 4;
            into.ttl = packets.get(start + 8) & 0xff;
            into.offset = start + ihl;
            into.length = Math.max(0, length - ihl);
        } else {
            into.offset = start;
            into.length = length;
        }
    }

    private void readControl(int i, ReceivedPacket into) {
        for (ControlMessages m = controlOf(i); m.next(); ) {
            int level = m.level();
            int type = m.type();
            if (level == LibC.SOL_SOCKET && (type == LibC.SO_TIMESTAMPNS || type == LibC.SO_TIMESTAMPING)) {
                long nanos = m.timespecNanos();
                if (nanos != 0) {
                    into.kernelTimeNanos = nanos;
                }
            } else if ((level == LibC.IPPROTO_IP && type == LibC.IP_TTL)
                    || (level == LibC.IPPROTO_IPV6 && type == LibC.IPV6_HOPLIMIT)) {
                into.ttl = headers.getInt(m.data());
            }
        }
    }

    private ControlMessages controlOf(int i) {
        return messages.of(controlAt + i * CONTROL, headers.getLong(i * MMSGHDR + 40));
    }

    private void scanForDrops(int i) {
        for (ControlMessages m = controlOf(i); m.next(); ) {
            if (m.level() == LibC.SOL_SOCKET && m.type() == LibC.SO_RXQ_OVFL) {
                drops = Math.max(drops, Integer.toUnsignedLong(headers.getInt(m.data())));
            }
        }
    }

    @Override
    public void close() {
        memory.close();
    }
}
