package io.mimoping.agent.icmp;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Up to {@code capacity} ICMP messages sent with one {@code sendmmsg} call, in reusable off-heap memory:
 * the caller writes each message into {@link #packets()} at {@link #offset(int)}, then {@link #add}s
 * it with its destination from an {@link AddressTable}. Nothing is allocated per message. Owned by one thread.
 */
public final class SendBatch implements AutoCloseable {

    private static final int MMSGHDR = 64;
    private static final int IOVEC = 16;

    private final int capacity;
    private final int maxMessage;
    private final Memory memory;
    private final ByteBuffer headers;
    private final ByteBuffer packets;
    private final long packetBase;
    private final Pointer[] from;
    private int size;

    /** A batch of at most {@code capacity} messages of at most {@code maxMessage} bytes each. */
    public SendBatch(int capacity, int maxMessage) {
        this.capacity = capacity;
        this.maxMessage = maxMessage;
        long headerBytes = (long) capacity * (MMSGHDR + IOVEC);
        memory = new Memory(headerBytes + (long) capacity * maxMessage);
        memory.clear(headerBytes);
        headers = memory.getByteBuffer(0, headerBytes).order(ByteOrder.nativeOrder());
        packets = memory.getByteBuffer(headerBytes, (long) capacity * maxMessage).order(ByteOrder.BIG_ENDIAN);
        long base = Pointer.nativeValue(memory);
        packetBase = base + headerBytes;
        from = new Pointer[capacity];
        for (int i = 0; i < capacity; i++) {
            from[i] = memory.share((long) i * MMSGHDR);
            int header = i * MMSGHDR;
            int iov = capacity * MMSGHDR + i * IOVEC;
            headers.putLong(iov, packetBase + (long) i * maxMessage);
            headers.putLong(header + 16, base + iov);
            headers.putLong(header + 24, 1);
        }
    }

    /** The messages' memory (big-endian); message {@code i} starts at {@link #offset(int)}. */
    public ByteBuffer packets() {
        return packets;
    }

    /** Where message {@code i} starts in {@link #packets()}. */
    public int offset(int i) {
        return i * maxMessage;
    }

    /** Bytes one message may have. */
    public int maxMessage() {
        return maxMessage;
    }

    public int size() {
        return size;
    }

    public boolean isFull() {
        return size == capacity;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /**
     * Adds message {@link #size()} (already written at its offset) with this length, to entry
     * {@code index} of a table, which must stay open until the batch is sent.
     *
     * @return the message's index in the batch
     */
    public int add(AddressTable table, int index, int length) {
        if (size == capacity) {
            throw new IllegalStateException("batch full");
        }
        if (length > maxMessage) {
            throw new IllegalArgumentException("message of " + length + " bytes, at most " + maxMessage);
        }
        int header = size * MMSGHDR;
        headers.putLong(header, table.address(index));
        headers.putInt(header + 8, table.length(index));
        headers.putLong(capacity * MMSGHDR + size * IOVEC + 8, length);
        return size++;
    }

    /**
     * Sends messages {@code first} to {@link #size()} - 1 in one system call.
     *
     * @return how many were sent, from {@code first} on (at least 1); 0 if the socket's buffer is full
     * @throws NativeException if the kernel refused message {@code first} (the ones after it were not tried)
     */
    public int send(IcmpSocket socket, int first) {
        int sent = LibC.sendmmsg(socket.fd(), from[first], size - first, 0);
        if (sent < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN || errno == Errno.EINTR || errno == Errno.ENOBUFS) {
                return 0;
            }
            throw Errno.failure("sendmmsg", errno);
        }
        return sent;
    }

    /** Empties the batch (the memory is reused). */
    public void clear() {
        size = 0;
    }

    @Override
    public void close() {
        memory.close();
    }
}
