package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.TargetStats;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/** One target of a running task: its schedule and what it measured so far. Owned by the engine thread. */
final class TargetRun {

    final TaskRun task;
    final String name;
    final InetAddress address;
    final byte[] addressBytes;
    final long firstSendNanos;
    long nextSeq;
    long sent;
    long received;
    long duplicates;
    int waiting;
    boolean finished;
    private final List<Long> rtts = new ArrayList<>();
    private final List<Integer> ttls = new ArrayList<>();

    TargetRun(TaskRun task, String name, InetAddress address, long firstSendNanos) {
        this.task = task;
        this.name = name;
        this.address = address;
        this.addressBytes = address.getAddress();
        this.firstSendNanos = firstSendNanos;
    }

    /** When probe {@code seq} is due: a fixed grid from the first send, so delays do not accumulate. */
    long dueNanos(long seq) {
        return firstSendNanos + seq * task.task.interval().toNanos();
    }

    void answered(long rttNanos, int ttl) {
        received++;
        waiting--;
        rtts.add(rttNanos);
        ttls.add(ttl);
    }

    /** Every probe was tried and none is waiting any more. */
    boolean done() {
        return nextSeq >= task.task.count() && waiting == 0;
    }

    TargetStats stats() {
        return new TargetStats(name, address, sent, received, duplicates, rtts, ttls);
    }
}
