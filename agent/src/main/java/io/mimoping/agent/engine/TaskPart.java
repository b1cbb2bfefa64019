package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.AddressTable;
import io.mimoping.agent.icmp.IcmpFamily;

import java.net.InetAddress;

/**
 * The targets of one task that one engine shard probes: their addresses (also off-heap, for the send
 * batches), send grid, per-target progress and the FIFOs of probes waiting for their deadline and for
 * being forgotten. Timeout and interval are the same for every probe of a task, so probes reach their
 * deadlines in the order they were sent: a FIFO replaces a timer per probe.
 *
 * <p>Built by the dispatcher, then owned by its shard's thread; the dispatcher reads only the immutable
 * fields ({@link #run}, {@link #names}, {@link #addresses}) and {@link #targets}, its own part.
 */
final class TaskPart {

    final TaskRun run;
    /** The shard that probes this part; set once before the part is handed to it. */
    Shard shard;
    final String[] names;
    final InetAddress[] addresses;
    final byte[][] addressBytes;
    final IcmpFamily[] families;
    final int count;
    final long timeoutNanos;
    final int payload;
    /** Dispatcher-owned: what each target measured. */
    final TargetRun[] targets;
    /** Dispatcher-owned: targets not reported finished yet. */
    int openTargets;
    /** Dispatcher-owned: the part finished or stopped; later records of it are ignored. */
    boolean closed;

    // Shard-owned from here on.
    final SendGrid grid;
    AddressTable table;
    final long[] tried;
    final long[] sent;
    final int[] waiting;
    final boolean[] finished;
    int unfinished;
    final IntRing deadlines = new IntRing(64);
    final IntRing forgets = new IntRing(64);
    boolean stopped;

    TaskPart(TaskRun run, String[] names, InetAddress[] addresses, int[] gridIndex, int taskTargets, long startNanos) {
        this.run = run;
        this.names = names;
        this.addresses = addresses;
        int n = names.length;
        this.addressBytes = new byte[n][];
        this.families = new IcmpFamily[n];
        this.targets = new TargetRun[n];
        for (int i = 0; i < n; i++) {
            addressBytes[i] = addresses[i].getAddress();
            families[i] = IcmpFamily.of(addresses[i]);
            targets[i] = new TargetRun(names[i], addresses[i]);
        }
        this.count = run.task.count();
        this.timeoutNanos = run.task.timeout().toNanos();
        this.payload = run.task.payloadSize();
        this.grid = new SendGrid(startNanos, run.task.interval().toNanos(), count, taskTargets, gridIndex);
        this.tried = new long[n];
        this.sent = new long[n];
        this.waiting = new int[n];
        this.finished = new boolean[n];
        this.unfinished = n;
        this.openTargets = n;
    }

    /** Writes the off-heap address table; on the shard thread, which owns and closes it. */
    void openTable() {
        table = new AddressTable(names.length);
        for (int i = 0; i < names.length; i++) {
            table.set(i, addresses[i]);
        }
    }

    void closeTable() {
        if (table != null) {
            table.close();
            table = null;
        }
    }

    /** Every probe of the target was tried and none is waiting any more. */
    boolean done(int target) {
        return tried[target] >= count && waiting[target] == 0;
    }

    /** Probes sent by targets not finished yet. */
    long sentByUnfinished() {
        long total = 0;
        for (int i = 0; i < sent.length; i++) {
            if (!finished[i]) {
                total += sent[i];
            }
        }
        return total;
    }
}
