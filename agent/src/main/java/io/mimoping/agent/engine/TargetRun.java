package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.TargetStats;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** What one target of a task measured so far, as the event dispatcher sees it. Owned by the dispatcher thread. */
final class TargetRun {

    final String name;
    final InetAddress address;
    long received;
    long duplicates;
    private long[] rtts = new long[4];
    private int[] ttls = new int[4];

    TargetRun(String name, InetAddress address) {
        this.name = name;
        this.address = address;
    }

    void answered(long rttNanos, int ttl) {
        if (received == rtts.length) {
            rtts = Arrays.copyOf(rtts, rtts.length * 2);
            ttls = Arrays.copyOf(ttls, ttls.length * 2);
        }
        rtts[(int) received] = rttNanos;
        ttls[(int) received] = ttl;
        received++;
    }

    TargetStats stats(long sent) {
        List<Long> rttList = new ArrayList<>((int) received);
        List<Integer> ttlList = new ArrayList<>((int) received);
        for (int i = 0; i < received; i++) {
            rttList.add(rtts[i]);
            ttlList.add(ttls[i]);
        }
        return new TargetStats(name, address, sent, received, duplicates, rttList, ttlList);
    }
}
