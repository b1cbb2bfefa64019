package io.mimoping.agent.engine;

import java.util.Arrays;

/** A FIFO of ints that grows by doubling and never shrinks: allocation-free once warm. One owner thread. */
final class IntRing {

    private int[] items;
    private int head;
    private int size;

    IntRing(int initialCapacity) {
        items = new int[Integer.highestOneBit(Math.max(2, initialCapacity - 1)) << 1];
    }

    void add(int value) {
        if (size == items.length) {
            int[] bigger = new int[items.length * 2];
            for (int i = 0; i < size; i++) {
                bigger[i] = items[(head + i) & (items.length - 1)];
            }
            items = bigger;
            head = 0;
        }
        items[(head + size) & (items.length - 1)] = value;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    int peek() {
        if (size == 0) {
            throw new IllegalStateException("empty");
        }
        return items[head];
    }

    int poll() {
        int value = peek();
        head = (head + 1) & (items.length - 1);
        size--;
        return value;
    }

    /** The i-th value from the head. */
    int get(int i) {
        return items[(head + i) & (items.length - 1)];
    }

    void clear() {
        head = 0;
        size = 0;
    }

    @Override
    public String toString() {
        int[] values = new int[size];
        for (int i = 0; i < size; i++) {
            values[i] = get(i);
        }
        return Arrays.toString(values);
    }
}
