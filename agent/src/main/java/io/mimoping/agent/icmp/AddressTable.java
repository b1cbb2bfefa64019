package io.mimoping.agent.icmp;

import com.sun.jna.Memory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Socket addresses of many targets, written once off-heap so that a {@link SendBatch} points its
 * messages at them instead of copying an address per probe. Owned by one thread.
 */
public final class AddressTable implements AutoCloseable {

    static final int ENTRY = 32;

    private final Memory memory;
    private final ByteBuffer view;
    private final long base;
    private final int[] lengths;

    /** A table of {@code count} entries, all unset. */
    public AddressTable(int count) {
        memory = new Memory((long) ENTRY * Math.max(1, count));
        memory.clear();
        view = memory.getByteBuffer(0, memory.size()).order(ByteOrder.nativeOrder());
        base = com.sun.jna.Pointer.nativeValue(memory);
        lengths = new int[count];
    }

    /** Sets entry {@code index} to this address. */
    public void set(int index, InetAddress address) {
        byte[] bytes = address.getAddress();
        int at = index * ENTRY;
        for (int i = 0; i < ENTRY; i++) {
            view.put(at + i, (byte) 0);
        }
        if (bytes.length == 4) {
            view.putShort(at, (short) LibC.AF_INET);
            view.put(at + 4, bytes);
            lengths[index] = 16;
        } else {
            view.putShort(at, (short) LibC.AF_INET6);
            view.put(at + 8, bytes);
            if (address instanceof Inet6Address v6) {
                view.putInt(at + 24, v6.getScopeId());
            }
            lengths[index] = 28;
        }
    }

    /** Entries in the table. */
    public int size() {
        return lengths.length;
    }

    long address(int index) {
        return base + (long) index * ENTRY;
    }

    int length(int index) {
        return lengths[index];
    }

    @Override
    public void close() {
        memory.close();
    }
}
