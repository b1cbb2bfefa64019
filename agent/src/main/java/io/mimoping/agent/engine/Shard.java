package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.NativeException;
import io.mimoping.agent.icmp.Poller;
import io.mimoping.agent.icmp.ReceiveBatch;
import io.mimoping.agent.icmp.ReceivedPacket;
import io.mimoping.agent.icmp.SendBatch;
import io.mimoping.agent.icmp.TxTimestamps;
import io.mimoping.bridge.probe.Reply;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One engine loop on its own platform thread, probing its share of every task's targets through its
 * own sockets: it sends a batch of due probes with one {@code sendmmsg}, reads the kernel's transmit
 * timestamps, drains queued replies with {@code recvmmsg}, fires deadlines, and sleeps in {@code ppoll}
 * only when nothing is due. Results leave as primitive records through an {@link EventRing}. Nothing on
 * this path allocates once the tables are warm.
 *
 * <p>Replies are read before deadlines fire, and only deadlines passed before the read fire; a reply is
 * judged in time or late by its kernel timestamps (RX - TX against the timeout), so a reply that
 * arrived in time counts even when this thread ran late. The same stamps close the late window: a reply
 * that arrived twice the timeout or more after its probe left is ignored, even if this thread, running late,
 * still remembers the probe.
 */
final class Shard implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Shard.class.getName());
    /** Probes per sendmmsg: +35 % over single sends here, 64 gained nothing more. */
    static final int BATCH = 16;
    private static final int RECEIVE_BATCH = 64;
    /** Most recvmmsg calls per socket per turn before deadlines and sends get their turn. */
    private static final int MAX_RECEIVE_CALLS = 64;
    /**
     * A wake-up for sends or deadlines may come this much later than due, so they coalesce into batches:
     * at 10,000 probes/s a shard wakes 500 times a second, not once per probe. RTTs do not suffer (they are
     * kernel timestamps); a probe leaves at most this late, and its successors keep their grid.
     */
    private static final long COALESCE_NANOS = 2_000_000;
    private static final long IDLE_WAIT_NANOS = 1_000_000_000L;
    /**
     * The loop away from sending this long was stalled (the process stopped, the host paused, a long GC): the
     * tasks' grids then move later ({@link SendGrid#catchUp}) rather than send what they missed in a burst. A loop
     * busy sending more than it can (line rate) comes back far sooner, and keeps sending as fast as it can.
     */
    private static final long STALL_NANOS = 10_000_000;
    private static final int MAX_SEND_STALLS = 10_000;
    private static final int TX_KEYS = 1 << 16;
    /** A kernel TX stamp earlier than the user-space time read before the send by more than this is not ours. */
    private static final long TX_STAMP_SLACK_NANOS = 1_000_000;
    private static final int MAX_MESSAGE = IcmpEcho.HEADER + 65_000;

    /** One family's sockets and buffers in this shard. */
    static final class Channel implements AutoCloseable {
        final IcmpFamily family;
        final IcmpSocket tx;
        final IcmpSocket rx;
        final int id;
        final boolean txStamps;
        final boolean verifyChecksum;
        final SendBatch batch = new SendBatch(BATCH, MAX_MESSAGE);
        final int[] pending = new int[BATCH];
        final int[] filled = new int[BATCH];
        final ReceiveBatch receive = new ReceiveBatch(RECEIVE_BATCH);
        final TxTimestamps stamps;
        final long[] keySlot;
        final int[] keyValue;
        int nextKey;
        /** Targets of this family in the shard's parts: a family without any is not read. */
        int targets;

        Channel(IcmpFamily family, IcmpSocket tx, IcmpSocket rx, int id, boolean txStamps) {
            this.family = family;
            this.tx = tx;
            this.rx = rx;
            this.id = id;
            this.txStamps = txStamps;
            this.verifyChecksum = family == IcmpFamily.V4 && rx.mode() == IcmpSocket.Mode.RAW;
            this.stamps = txStamps ? new TxTimestamps(RECEIVE_BATCH) : null;
            this.keySlot = txStamps ? new long[TX_KEYS] : null;
            this.keyValue = txStamps ? new int[TX_KEYS] : null;
            if (keySlot != null) {
                java.util.Arrays.fill(keySlot, -1);
            }
        }

        @Override
        public void close() {
            if (tx != rx) {
                tx.close();
            }
            rx.close();
            batch.close();
            receive.close();
            if (stamps != null) {
                stamps.close();
            }
        }
    }

    private final int index;
    private final EngineClock clock;
    private final Channel[] channels;
    private final Poller poller;
    private final EventRing events;
    private final Dispatcher dispatcher;
    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    // Owned by the shard thread.
    private final SlotTable slots = new SlotTable();
    private final ReplyMatcher matcher;
    private final List<TaskPart> parts = new ArrayList<>();
    private final ReceivedPacket packet = new ReceivedPacket();
    private final Runnable drainWhileBlocked = this::drainQuietly;
    private long lastWake;
    private int firstPart;
    /** When {@link #send} last ended (monotonic). */
    private long lastSendTurn;
    private long sentCount;
    private long matchedCount;
    private long userClockCount;

    // Snapshots for other threads.
    private volatile long statSent;
    private volatile long statMatched;
    private volatile long statIgnored;
    private volatile long statDrops;
    private volatile long statUserClock;
    private volatile long statSlots;
    private volatile long statPeak;

    Shard(int index, EngineClock clock, long cookie, Channel[] channels, EventRing events, Dispatcher dispatcher) {
        this.index = index;
        this.clock = clock;
        this.channels = channels;
        this.events = events;
        this.dispatcher = dispatcher;
        this.matcher = new ReplyMatcher(cookie);
        List<IcmpSocket> readable = new ArrayList<>();
        for (Channel channel : channels) {
            if (channel != null) {
                readable.add(channel.rx);
            }
        }
        this.poller = new Poller(readable);
        this.thread = new Thread(this::run, "mimoping-engine-" + index);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Runs a command on the shard thread, soon. */
    void submit(Runnable command) {
        commands.add(command);
        poller.wakeup();
    }

    /** Starts probing a part (called on the shard thread through {@link #submit}). */
    void add(TaskPart part) {
        part.openTable();
        parts.add(part);
        for (var family : part.families) {
            channels[family.ordinal()].targets++;
        }
    }

    /** Stops a part now; always answers with a PART_STOPPED record, even if the part had finished. */
    void stop(TaskPart part) {
        if (parts.contains(part)) {
            stopPart(part, EventRing.PART_STOPPED);
        } else {
            int i = events.claim(drainWhileBlocked);
            events.part[i] = part;
            events.type[i] = EventRing.PART_STOPPED;
            events.seq[i] = 0;
            events.next();
        }
        publish();
    }

    long threadId() {
        return thread.threadId();
    }

    boolean alive() {
        return thread.isAlive();
    }

    void addStats(long[] into) {
        into[0] += statSent;
        into[1] += statMatched;
        into[2] += statIgnored;
        into[3] += statDrops;
        into[4] += statUserClock;
        into[5] += statSlots;
        into[6] += statPeak;
        into[7] += events.fullWaits();
    }

    @Override
    public void close() {
        running = false;
        poller.wakeup();
        Threads.joinUninterruptibly(thread);
        poller.close();
        for (Channel channel : channels) {
            if (channel != null) {
                channel.close();
            }
        }
    }

    // ---- shard thread ----

    private void run() {
        try {
            while (running) {
                Runnable command;
                while ((command = commands.poll()) != null) {
                    command.run();
                }
                long now = clock.monotonicNanos();
                if (drain()) {
                    expire(now);
                }
                boolean behind = send(clock.monotonicNanos());
                publish();
                updateStats();
                if (!behind && commands.isEmpty()) {
                    long wake = nextWake();
                    long at = clock.monotonicNanos();
                    if (wake > at) {
                        wake = Math.max(wake, lastWake + COALESCE_NANOS);
                        poller.await(wake - at);
                        lastWake = clock.monotonicNanos();
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "probe engine shard " + index + " stopped by an unexpected failure", e);
        } finally {
            running = false;
            for (int i = parts.size() - 1; i >= 0; i--) {
                stopPart(parts.get(i), EventRing.PART_FAILED);
            }
            publish();
        }
    }

    private void publish() {
        if (events.publish()) {
            dispatcher.signal();
        }
    }

    private void updateStats() {
        statSent = sentCount;
        statMatched = matchedCount;
        statIgnored = matcher.ignored();
        statUserClock = userClockCount;
        statSlots = slots.inUse();
        statPeak = slots.peak();
        long drops = 0;
        for (Channel channel : channels) {
            if (channel != null) {
                drops += channel.receive.drops();
            }
        }
        statDrops = drops;
    }

    /** The earliest time something is due: a send, a deadline, a slot to forget. */
    private long nextWake() {
        long wake = clock.monotonicNanos() + IDLE_WAIT_NANOS;
        for (int p = 0; p < parts.size(); p++) {
            TaskPart part = parts.get(p);
            if (part.grid.hasNext() && !part.run.cancelled) {
                wake = Math.min(wake, part.grid.nextDue());
            }
            if (!part.deadlines.isEmpty()) {
                wake = Math.min(wake, slots.sentMono[part.deadlines.peek()] + part.timeoutNanos);
            }
            if (!part.forgets.isEmpty()) {
                wake = Math.min(wake, slots.sentMono[part.forgets.peek()] + 2 * part.timeoutNanos);
            }
        }
        return wake;
    }

    // ---- sending ----

    /**
     * Queues the probes due by {@code now}, at most one batch, and sends them.
     *
     * @return true if more were due than one batch holds: the caller loops again without sleeping
     */
    private boolean send(long now) {
        int n = parts.size();
        if (now - lastSendTurn > STALL_NANOS) {
            // every task's grid, not only those this turn's batch reaches: the next turn comes at once
            for (int k = 0; k < n; k++) {
                parts.get(k).grid.catchUp(now, COALESCE_NANOS);
            }
        }
        int budget = BATCH;
        for (int k = 0; k < n && budget > 0; k++) {
            TaskPart part = parts.get((firstPart + k) % n);
            if (part.run.cancelled) {
                continue;
            }
            SendGrid grid = part.grid;
            while (budget > 0 && grid.hasNext() && grid.nextDue() <= now) {
                queue(part, grid.nextTarget(), grid.nextSeq());
                grid.advance();
                budget--;
            }
        }
        firstPart = n == 0 ? 0 : (firstPart + 1) % n;
        for (Channel channel : channels) {
            if (channel != null) {
                flush(channel);
            }
        }
        // from the end of the turn: time spent waiting here for a full send buffer is no stall
        lastSendTurn = clock.monotonicNanos();
        return budget == 0;
    }

    private void queue(TaskPart part, int target, long seq) {
        Channel channel = channels[part.families[target].ordinal()];
        part.tried[target]++;
        int slot = slots.allocate(part, target, seq);
        SendBatch batch = channel.batch;
        int i = batch.size();
        ByteBuffer out = batch.packets();
        int at = batch.offset(i);
        int payload = part.payload;
        out.put(at, (byte) channel.family.echoRequest());
        out.put(at + 1, (byte) 0);
        out.putShort(at + 2, (short) 0);
        out.putShort(at + 4, (short) channel.id);
        out.putShort(at + 6, (short) seq);
        out.putLong(at + IcmpEcho.HEADER, matcher.cookie());
        out.putLong(at + IcmpEcho.HEADER + 8, slots.key(slot));
        if (channel.filled[i] != payload) {
            for (int b = IcmpEcho.TAG; b < payload; b++) {
                out.put(at + IcmpEcho.HEADER + b, (byte) b);
            }
            channel.filled[i] = payload;
        }
        out.putShort(at + 2, (short) IcmpEcho.checksum(out, at, IcmpEcho.HEADER + payload));
        batch.add(part.table, target, IcmpEcho.HEADER + payload);
        channel.pending[i] = slot;
    }

    private void flush(Channel channel) {
        SendBatch batch = channel.batch;
        int size = batch.size();
        if (size == 0) {
            return;
        }
        long epoch = clock.epochNanos();
        long mono = clock.monotonicNanos();
        int i = 0;
        int stalls = 0;
        while (i < size) {
            int n;
            try {
                n = batch.send(channel.tx, i);
            } catch (NativeException e) {
                failed(channel.pending[i], e.getMessage());
                i++;
                continue;
            }
            if (n == 0) {
                if (++stalls > MAX_SEND_STALLS) {
                    for (; i < size; i++) {
                        failed(channel.pending[i], "the socket's send buffer stayed full");
                    }
                    break;
                }
                LockSupport.parkNanos(20_000);
                continue;
            }
            for (int k = i; k < i + n; k++) {
                sent(channel, channel.pending[k], epoch, mono);
            }
            i += n;
        }
        batch.clear();
    }

    private void sent(Channel channel, int slot, long epoch, long mono) {
        slots.sentEpoch[slot] = epoch;
        slots.sentMono[slot] = mono;
        if (channel.txStamps) {
            int key = channel.nextKey++;
            int at = key & (TX_KEYS - 1);
            channel.keySlot[at] = slots.key(slot);
            channel.keyValue[at] = key;
        }
        TaskPart part = slots.part[slot];
        int target = slots.target[slot];
        part.sent[target]++;
        part.waiting[target]++;
        part.deadlines.add(slot);
        sentCount++;
    }

    private void failed(int slot, String message) {
        TaskPart part = slots.part[slot];
        int target = slots.target[slot];
        int i = events.claim(drainWhileBlocked);
        events.part[i] = part;
        events.type[i] = EventRing.SEND_ERROR;
        events.target[i] = target;
        events.seq[i] = slots.seq[slot];
        events.message[i] = message;
        events.next();
        slots.release(slot);
        if (part.done(target)) {
            finishTarget(part, target);
        }
    }

    // ---- receiving ----

    /**
     * Reads transmit timestamps, then every queued reply.
     *
     * @return true if every receive queue was emptied
     */
    private boolean drain() {
        boolean emptied = true;
        for (Channel channel : channels) {
            if (channel == null || channel.targets == 0) {
                continue;
            }
            if (channel.txStamps) {
                readStamps(channel);
            }
            int calls = 0;
            int n;
            do {
                n = channel.receive.receive(channel.rx);
                for (int i = 0; i < n; i++) {
                    channel.receive.packet(i, channel.family, channel.rx.mode(), packet);
                    onPacket(channel);
                }
            } while (n == RECEIVE_BATCH && ++calls < MAX_RECEIVE_CALLS);
            if (n == RECEIVE_BATCH) {
                emptied = false;
            }
        }
        return emptied;
    }

    /** Drains while the event ring is full; replies handled here may add events, which is fine: it waits again. */
    private void drainQuietly() {
        // Nothing: reading replies while blocked on the ring would need ring space for their events.
    }

    private void readStamps(Channel channel) {
        int n;
        do {
            n = channel.stamps.read(channel.tx);
            for (int i = 0; i < n; i++) {
                int key = channel.stamps.key(i);
                int at = key & (TX_KEYS - 1);
                long entry = channel.keySlot[at];
                if (entry == -1 || channel.keyValue[at] != key) {
                    continue;
                }
                channel.keySlot[at] = -1;
                int slot = slots.find(entry);
                long stamp = channel.stamps.stampNanos(i);
                if (slot >= 0 && stamp >= slots.sentEpoch[slot] - TX_STAMP_SLACK_NANOS) {
                    slots.txStamp[slot] = stamp;
                }
            }
        } while (n == RECEIVE_BATCH);
    }

    private void onPacket(Channel channel) {
        int slot = matcher.match(packet, channel.family, channel.id, channel.verifyChecksum, slots);
        if (slot < 0) {
            return;
        }
        matchedCount++;
        TaskPart part = slots.part[slot];
        int target = slots.target[slot];
        if (part.stopped || part.finished[target]) {
            return;
        }
        long received = packet.kernelTimeNanos();
        if (received == 0) {
            received = clock.epochNanos();
        }
        long sentAt = slots.txStamp[slot];
        if (sentAt == 0) {
            sentAt = slots.sentEpoch[slot];
            userClockCount++;
        }
        long rtt = received - sentAt;
        if (rtt < 0) {
            // The wall clock was stepped between send and receive: fall back to the monotonic clock.
            rtt = clock.monotonicNanos() - slots.sentMono[slot];
        }
        if (slots.state[slot] == SlotTable.WAITING && rtt >= part.timeoutNanos) {
            // It arrived after its deadline, though that deadline has not fired yet: a timeout, then late.
            slots.expire(slot);
            timedOut(part, target, slot);
            if (part.finished[target]) {
                return;
            }
        }
        if (rtt >= 2 * part.timeoutNanos) {
            // Past the late window by the kernel's stamp: the probe is forgotten then, whenever its slot is freed.
            return;
        }
        Reply.Kind kind = slots.accept(slot);
        if (kind == null) {
            return;
        }
        if (kind == Reply.Kind.FIRST) {
            part.waiting[target]--;
        }
        int i = events.claim(drainWhileBlocked);
        events.part[i] = part;
        events.type[i] = EventRing.REPLY;
        events.target[i] = target;
        events.seq[i] = slots.seq[slot];
        events.rtt[i] = rtt;
        events.sentEpoch[i] = sentAt;
        events.ttl[i] = packet.ttl();
        events.nbytes[i] = packet.length();
        events.id[i] = channel.id;
        events.kind[i] = kind.ordinal();
        events.next();
        if (kind == Reply.Kind.FIRST && part.done(target)) {
            finishTarget(part, target);
        }
    }

    // ---- deadlines ----

    private void expire(long now) {
        for (int p = parts.size() - 1; p >= 0; p--) {
            TaskPart part = parts.get(p);
            IntRing deadlines = part.deadlines;
            while (!deadlines.isEmpty()) {
                int slot = deadlines.peek();
                if (slots.sentMono[slot] + part.timeoutNanos > now) {
                    break;
                }
                deadlines.poll();
                // Remembered for one more timeout, so a late reply is reported once, not mistaken or lost.
                part.forgets.add(slot);
                if (slots.expire(slot)) {
                    timedOut(part, slots.target[slot], slot);
                }
            }
            IntRing forgets = part.forgets;
            while (!forgets.isEmpty() && slots.sentMono[forgets.peek()] + 2 * part.timeoutNanos <= now) {
                slots.release(forgets.poll());
            }
            if (part.unfinished == 0) {
                remove(part);
            }
        }
    }

    private void timedOut(TaskPart part, int target, int slot) {
        part.waiting[target]--;
        int i = events.claim(drainWhileBlocked);
        events.part[i] = part;
        events.type[i] = EventRing.TIMEOUT;
        events.target[i] = target;
        events.seq[i] = slots.seq[slot];
        events.sentEpoch[i] = slots.txStamp[slot] != 0 ? slots.txStamp[slot] : slots.sentEpoch[slot];
        events.next();
        if (part.done(target)) {
            finishTarget(part, target);
        }
    }

    private void finishTarget(TaskPart part, int target) {
        part.finished[target] = true;
        part.unfinished--;
        targetRecord(part, target, EventRing.TARGET_DONE);
    }

    /** A target's end, done or stopped, with what it sent. */
    private void targetRecord(TaskPart part, int target, int type) {
        int i = events.claim(drainWhileBlocked);
        events.part[i] = part;
        events.type[i] = type;
        events.target[i] = target;
        events.seq[i] = part.sent[target];
        events.next();
    }

    private void stopPart(TaskPart part, int type) {
        part.stopped = true;
        part.grid.stop();
        for (int target = 0; target < part.finished.length; target++) {
            if (!part.finished[target] && part.sent[target] > 0) {
                targetRecord(part, target, EventRing.TARGET_STOPPED);
            }
        }
        int i = events.claim(drainWhileBlocked);
        events.part[i] = part;
        events.type[i] = type;
        events.seq[i] = part.sentByUnfinished();
        events.next();
        remove(part);
    }

    /** Forgets a part whose targets all finished (or that stopped): frees its slots and address table. */
    private void remove(TaskPart part) {
        for (IntRing ring : List.of(part.deadlines, part.forgets)) {
            while (!ring.isEmpty()) {
                slots.release(ring.poll());
            }
        }
        part.closeTable();
        if (parts.remove(part)) {
            for (var family : part.families) {
                channels[family.ordinal()].targets--;
            }
        }
    }
}
