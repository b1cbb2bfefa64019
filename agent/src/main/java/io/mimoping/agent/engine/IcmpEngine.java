package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpPermissionException;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.NativeException;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeListener;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/**
 * The ICMP probe engine. Targets are sharded over a few engine loops ({@link Shard}s, one platform thread
 * each, two by default to use two cores), each with its own sockets per address family, shared by all
 * its targets. A loop sends batches of 16 probes per {@code sendmmsg}, drains replies with
 * {@code recvmmsg}, matches them in O(1) through a slot table, and paces probes with a cursor over each
 * task's fixed send grid and deadlines with a FIFO per task: nothing is allocated per probe. RTTs are
 * kernel receive time minus kernel transmit time (SO_TIMESTAMPING), or the wall clock read just before
 * the send call where the kernel gives no transmit stamp ({@link #timestamping}). A separate thread
 * hands results to listeners through bounded rings.
 *
 * <p>On raw sockets, each shard sends from a socket that reads nothing and receives on one whose BPF
 * filter lets through only echo replies carrying that shard's identifier: neither other programs'
 * ICMP nor our own echo requests on loopback are ever read.
 */
public final class IcmpEngine implements ProbeEngine {

    private static final int RECEIVE_BUFFER = 32 << 20;
    private static final int ERROR_QUEUE_BUFFER = 8 << 20;
    private static final int RING = 1 << 16;
    /** Probes per second below which a task runs on one shard only. */
    private static final double SINGLE_SHARD_RATE = 20_000;
    private static final Pattern LITERAL = Pattern.compile("[0-9.]+|.*:.*");
    /**
     * Probes per second one engine loop sustains with no loss: {@code ./mimoping bench engine} measured
     * 107,000 to 152,000 probes/s on two loops of the reference VM (agent/README.md).
     */
    private static final long RATE_PER_SHARD = 50_000;
    /** Targets in flight at once that {@code ./mimoping bench outstanding} proves (100,000 × 10 probes). */
    private static final int MAX_TARGETS = 100_000;

    private final EngineClock clock;
    private final Map<IcmpFamily, IcmpSocket.Mode> modes = new EnumMap<>(IcmpFamily.class);
    private final Map<IcmpFamily, String> unavailable = new EnumMap<>(IcmpFamily.class);
    private final Map<IcmpFamily, Timestamping> timestamping = new EnumMap<>(IcmpFamily.class);
    private final Shard[] shards;
    private final Dispatcher dispatcher;
    private final ExecutorService resolvers = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean open = true;

    // Owned by the dispatcher thread.
    private int nextShard;

    private IcmpEngine(EngineClock clock, int shardCount) {
        this.clock = clock;
        SecureRandom random = new SecureRandom();
        long cookie = random.nextLong();
        int rawIdentifier = random.nextInt(1 << 16);
        this.dispatcher = new Dispatcher(clock);
        Shard.Channel[][] channels = new Shard.Channel[shardCount][IcmpFamily.values().length];
        try {
            for (IcmpFamily family : IcmpFamily.values()) {
                try {
                    for (int s = 0; s < shardCount; s++) {
                        channels[s][family.ordinal()] = channel(family, (rawIdentifier + s) & 0xffff);
                    }
                    modes.put(family, channels[0][family.ordinal()].rx.mode());
                } catch (IcmpPermissionException e) {
                    unavailable.put(family, e.getMessage());
                } catch (NativeException e) {
                    unavailable.put(family, family.label() + " ICMP is not available here: " + e.getMessage());
                }
                if (unavailable.containsKey(family)) {
                    for (int s = 0; s < shardCount; s++) {
                        if (channels[s][family.ordinal()] != null) {
                            channels[s][family.ordinal()].close();
                            channels[s][family.ordinal()] = null;
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            for (Shard.Channel[] shard : channels) {
                for (Shard.Channel channel : shard) {
                    if (channel != null) {
                        channel.close();
                    }
                }
            }
            throw e;
        }
        this.shards = new Shard[shardCount];
        for (int s = 0; s < shardCount; s++) {
            EventRing ring = new EventRing(RING);
            dispatcher.add(ring);
            shards[s] = new Shard(s, clock == EngineClock.SYSTEM ? EngineClock.forOneThread() : clock, cookie,
                    channels[s], ring, dispatcher);
        }
        dispatcher.start();
        for (Shard shard : shards) {
            shard.start();
        }
    }

    /** Opens the ICMP sockets this process may open and starts the engine with one loop per core, at most two. */
    public static IcmpEngine open() {
        return open(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())));
    }

    /** Opens the engine with this many engine loops (threads), each probing its share of the targets. */
    public static IcmpEngine open(int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("at least one shard: " + shards);
        }
        return new IcmpEngine(EngineClock.SYSTEM, shards);
    }

    /** Opens the engine on these clocks, which every loop shares: for tests that change how time runs. */
    static IcmpEngine open(EngineClock clock, int shards) {
        return new IcmpEngine(clock, shards);
    }

    /**
     * A shard's sockets for one family. Raw: a send socket that reads nothing (so our own requests are
     * never queued for us) and stamps transmits, and a receive socket with a BPF filter on the shard's
     * identifier. Datagram: one socket does both, the kernel gives the identifier and filters by it.
     */
    private Shard.Channel channel(IcmpFamily family, int rawIdentifier) {
        IcmpSocket rx = IcmpSocket.open(family);
        IcmpSocket tx = null;
        try {
            rx.acceptOnly(family.echoReply());
            rx.receiveBuffer(RECEIVE_BUFFER);
            rx.countDrops();
            int id;
            if (rx.mode() == IcmpSocket.Mode.RAW) {
                id = rawIdentifier;
                rx.acceptEchoRepliesWith(id);
                tx = IcmpSocket.open(family, IcmpSocket.Mode.RAW);
                tx.receiveNothing();
                tx.receiveBuffer(ERROR_QUEUE_BUFFER);
            } else {
                id = rx.identifier();
                tx = rx;
            }
            boolean stamps;
            String detail;
            try {
                tx.timestampTransmits(tx == rx);
                stamps = true;
                detail = "kernel transmit and receive timestamps (SO_TIMESTAMPING, software)";
            } catch (NativeException e) {
                stamps = false;
                detail = "kernel receive timestamps; send time from the wall clock before each send call,"
                        + " because transmit timestamps are unavailable: " + e.getMessage();
            }
            timestamping.putIfAbsent(family, new Timestamping(stamps, true, detail));
            return new Shard.Channel(family, tx, rx, id, stamps);
        } catch (RuntimeException e) {
            if (tx != null && tx != rx) {
                tx.close();
            }
            rx.close();
            throw e;
        }
    }

    /**
     * Why ICMP for this family cannot be sent, if it cannot: for a clear message at start-up.
     *
     * @return empty when the family works
     */
    public Optional<String> unavailable(IcmpFamily family) {
        return Optional.ofNullable(unavailable.get(family));
    }

    /** How this engine sends ICMP for a family, if it can. */
    public Optional<IcmpSocket.Mode> mode(IcmpFamily family) {
        return Optional.ofNullable(modes.get(family));
    }

    /** Where RTTs come from for a family (kernel or user-space send times, and why), if it can be pinged. */
    public Optional<Timestamping> timestamping(IcmpFamily family) {
        return Optional.ofNullable(timestamping.get(family));
    }

    /** Probes per second this engine sustains over all its targets, as measured by its benchmark. */
    public long maxRate() {
        return RATE_PER_SHARD * shards.length;
    }

    /** Targets this engine keeps in flight at once, as proven by its benchmark. */
    public int maxTargets() {
        return MAX_TARGETS;
    }

    /** Engine loops probing in parallel. */
    public int shards() {
        return shards.length;
    }

    /** Thread ids of the engine loops, to measure their CPU time and allocations. */
    public long[] shardThreadIds() {
        long[] ids = new long[shards.length];
        for (int i = 0; i < shards.length; i++) {
            ids[i] = shards[i].threadId();
        }
        return ids;
    }

    /** Thread id of the thread that hands results to listeners. */
    public long dispatcherThreadId() {
        return dispatcher.threadId();
    }

    /** Whether the engine is open and all its threads (engine loops, event dispatcher) still run. */
    public boolean alive() {
        if (!open || !dispatcher.alive()) {
            return false;
        }
        for (Shard shard : shards) {
            if (!shard.alive()) {
                return false;
            }
        }
        return true;
    }

    /** Counters since the engine opened (a snapshot; safe from any thread). */
    public EngineStats stats() {
        long[] sums = new long[8];
        for (Shard shard : shards) {
            shard.addStats(sums);
        }
        return new EngineStats(shards.length, sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6], sums[7]);
    }

    @Override
    public RunningTask start(PingTask task, ProbeListener listener) {
        TaskRun run = new TaskRun(task, listener, clock.monotonicNanos());
        if (!open) {
            dispatcherless(run);
            return () -> { };
        }
        if (task.targets().stream().allMatch(IcmpEngine::literal)) {
            // Addresses need no lookup: straight to the dispatcher. A hop through a virtual thread would wait
            // behind every other runnable one: 2,000 streams starting at once got their first reply after 1-3 s.
            List<Resolved> resolved = task.targets().stream().map(IcmpEngine::lookupNow).toList();
            dispatcher.submit(() -> begin(run, resolved));
        } else {
            resolvers.execute(() -> {
                List<Resolved> resolved = resolve(task.targets());
                dispatcher.submit(() -> begin(run, resolved));
            });
        }
        return () -> {
            run.cancelled = true;
            dispatcher.submit(() -> cancel(run));
        };
    }

    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        resolvers.shutdownNow();
        for (Shard shard : shards) {
            shard.close();
        }
        dispatcher.close();
    }

    private static void dispatcherless(TaskRun run) {
        run.emit(ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null, "the probe engine is closed"));
        run.finish(System.nanoTime());
    }

    private record Resolved(String target, InetAddress address, String failure) {
    }

    private List<Resolved> resolve(List<String> targets) {
        List<Resolved> resolved = new ArrayList<>(targets.size());
        List<Future<Resolved>> lookups = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        try (ExecutorService lookup = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String target : targets) {
                if (literal(target)) {
                    resolved.add(lookupNow(target));
                } else {
                    at.add(resolved.size());
                    resolved.add(null);
                    lookups.add(lookup.submit(() -> lookupNow(target)));
                }
            }
        }
        for (int i = 0; i < lookups.size(); i++) {
            try {
                resolved.set(at.get(i), lookups.get(i).get());
            } catch (ExecutionException e) {
                throw new IllegalStateException("resolving targets failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while resolving targets", e);
            }
        }
        return resolved;
    }

    /** An IPv4 or IPv6 address, which {@link InetAddress#getByName} parses without a lookup. */
    private static boolean literal(String target) {
        return LITERAL.matcher(target).matches();
    }

    private static Resolved lookupNow(String target) {
        try {
            return new Resolved(target, InetAddress.getByName(target), null);
        } catch (UnknownHostException e) {
            return new Resolved(target, null, "host name '" + target + "' did not resolve");
        }
    }

    // ---- dispatcher thread ----

    private void begin(TaskRun run, List<Resolved> resolved) {
        long now = clock.monotonicNanos();
        if (run.cancelled) {
            run.finish(now);
            return;
        }
        List<Resolved> started = new ArrayList<>(resolved.size());
        for (Resolved target : resolved) {
            if (target.address() == null) {
                run.emit(ProbeError.ofTarget(ErrorCode.RESOLVE_FAILED, target.target(), target.failure()));
            } else if (!modes.containsKey(IcmpFamily.of(target.address()))) {
                run.emit(ProbeError.ofTarget(ErrorCode.PERMISSION_DENIED, target.target(),
                        unavailable.get(IcmpFamily.of(target.address()))));
            } else {
                started.add(target);
            }
        }
        if (started.isEmpty()) {
            run.finish(now);
            return;
        }
        // Target i goes to shard (i + offset) % shards; the offset turns, so one-target tasks alternate shards.
        // A task that one loop handles easily stays on one shard: fewer, fuller batches and wake-ups.
        double rate = started.size() * 1e9 / Math.max(1, run.task.interval().toNanos());
        int count = rate < SINGLE_SHARD_RATE ? 1 : shards.length;
        int offset = nextShard;
        nextShard = (nextShard + 1) % shards.length;
        List<List<Integer>> byShard = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            byShard.add(new ArrayList<>());
        }
        for (int i = 0; i < started.size(); i++) {
            byShard.get((i + offset) % count).add(i);
        }
        if (count == 1) {
            // Everything on the shard whose turn it is.
            List<Integer> all = byShard.getFirst();
            byShard.clear();
            for (int s = 0; s < shards.length; s++) {
                byShard.add(s == offset ? all : new ArrayList<>());
            }
            count = shards.length;
        }
        List<TaskPart> parts = new ArrayList<>();
        List<Shard> owners = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            List<Integer> mine = byShard.get(s);
            if (mine.isEmpty()) {
                continue;
            }
            String[] names = new String[mine.size()];
            InetAddress[] addresses = new InetAddress[mine.size()];
            int[] grid = new int[mine.size()];
            for (int k = 0; k < mine.size(); k++) {
                Resolved target = started.get(mine.get(k));
                names[k] = target.target();
                addresses[k] = target.address();
                grid[k] = mine.get(k);
            }
            parts.add(new TaskPart(run, names, addresses, grid, started.size(), now));
            owners.add(shards[s]);
        }
        run.parts = parts.toArray(new TaskPart[0]);
        run.openParts = parts.size();
        run.begun = true;
        dispatcher.track(run);
        for (int p = 0; p < parts.size(); p++) {
            TaskPart part = parts.get(p);
            Shard owner = owners.get(p);
            part.shard = owner;
            owner.submit(() -> owner.add(part));
        }
    }

    private void cancel(TaskRun run) {
        if (run.finished) {
            return;
        }
        if (!run.begun) {
            run.finish(clock.monotonicNanos());
            return;
        }
        for (TaskPart part : run.parts) {
            if (!part.closed) {
                Shard owner = part.shard;
                owner.submit(() -> owner.stop(part));
            }
        }
    }
}
