package io.mimoping.agent.icmp;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads the kernel's transmit timestamps from a socket's error queue (see
 * {@link IcmpSocket#timestampTransmits(boolean)}), many per system call: for each, the counter of the
 * message it belongs to (the socket's n-th message sent since timestamping was turned on, from 0, in 32
 * bits) and the time it left, in nanoseconds since the epoch. Owned by one thread.
 */
public final class TxTimestamps implements AutoCloseable {

    private static final int MMSGHDR = 64;
    private static final int CONTROL = 256;

    private final int capacity;
    private final Memory memory;
    private final ByteBuffer view;
    private final ControlMessages messages;
    private final int controlAt;
    private final int[] keys;
    private final long[] stamps;
    private int size;

    public TxTimestamps(int capacity) {
        this.capacity = capacity;
        controlAt = capacity * MMSGHDR;
        memory = new Memory((long) capacity * (MMSGHDR + CONTROL));
        memory.clear();
        view = memory.getByteBuffer(0, memory.size()).order(ByteOrder.nativeOrder());
        messages = new ControlMessages(view);
        long base = Pointer.nativeValue(memory);
        for (int i = 0; i < capacity; i++) {
            view.putLong(i * MMSGHDR + 32, base + controlAt + (long) i * CONTROL);
        }
        keys = new int[capacity];
        stamps = new long[capacity];
    }

    /**
     * Reads queued timestamps, up to the capacity, without waiting.
     *
     * @return how many timestamps were read (messages without one are skipped)
     */
    public int read(IcmpSocket socket) {
        for (int i = 0; i < capacity; i++) {
            view.putLong(i * MMSGHDR + 40, CONTROL);
            view.putInt(i * MMSGHDR + 48, 0);
        }
        int n = LibC.recvmmsg(socket.fd(), memory, capacity, LibC.MSG_ERRQUEUE | LibC.MSG_DONTWAIT, null);
        size = 0;
        if (n < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return 0;
            }
            throw Errno.failure("recvmmsg(MSG_ERRQUEUE)", errno);
        }
        for (int i = 0; i < n; i++) {
            parse(i);
        }
        return size;
    }

    /** Message counter of timestamp {@code i}. */
    public int key(int i) {
        return keys[i];
    }

    /** Transmit time of timestamp {@code i}, nanoseconds since the epoch. */
    public long stampNanos(int i) {
        return stamps[i];
    }

    private void parse(int i) {
        long length = view.getLong(i * MMSGHDR + 40);
        int control = controlAt + i * CONTROL;
        long stamp = 0;
        int key = 0;
        boolean keyed = false;
        for (ControlMessages m = messages.of(control, length); m.next(); ) {
            int level = m.level();
            int type = m.type();
            if (level == LibC.SOL_SOCKET && type == LibC.SO_TIMESTAMPING) {
                stamp = m.timespecNanos();
            } else if ((level == LibC.IPPROTO_IP && type == LibC.IP_RECVERR)
                    || (level == LibC.IPPROTO_IPV6 && type == LibC.IPV6_RECVERR)) {
                if ((view.get(m.data() + 4) & 0xff) == LibC.SO_EE_ORIGIN_TIMESTAMPING) {
                    key = view.getInt(m.data() + 12);
                    keyed = true;
                }
            }
        }
        if (keyed && stamp != 0) {
            keys[size] = key;
            stamps[size] = stamp;
            size++;
        }
    }

    @Override
    public void close() {
        memory.close();
    }
}
