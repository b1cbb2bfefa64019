package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpPermissionException;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.NativeException;
import io.mimoping.agent.icmp.Poller;
import io.mimoping.agent.icmp.ReceivedPacket;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.Timeout;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The ICMP probe engine: one socket per address family shared by every target, one platform thread
 * that sends due probes, drains replies and fires per-probe deadlines, and nothing per probe but a
 * small record while it is in flight.
 *
 * <p>Send time is read from the wall clock right before {@code sendto}; receive time is the kernel's
 * SO_TIMESTAMPNS stamp, so time spent in this process after the reply arrived is not counted.
 * Other threads talk to the engine thread through a command queue and an eventfd wakeup.
 */
public final class IcmpEngine implements ProbeEngine {

    private static final Logger LOG = Logger.getLogger(IcmpEngine.class.getName());
    /** Most probes sent per loop turn before replies are drained again. */
    private static final int SEND_BURST = 64;
    /** Most replies read per socket per loop turn before due sends get their turn. */
    private static final int DRAIN_BURST = 256;
    /** Longest gap between the first probes of two targets of a task. */
    private static final long MAX_STAGGER_NANOS = 1_000_000;
    /** Wait before retrying a send the kernel refused for a full buffer. */
    private static final long RETRY_NANOS = 50_000;
    private static final long IDLE_WAIT_NANOS = 1_000_000_000L;
    private static final int RECEIVE_BUFFER = 8 << 20;

    private final EngineClock clock;
    private final Map<IcmpFamily, FamilySocket> sockets = new EnumMap<>(IcmpFamily.class);
    private final Map<IcmpFamily, String> unavailable = new EnumMap<>(IcmpFamily.class);
    private final Poller poller;
    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final ExecutorService resolvers = Executors.newVirtualThreadPerTaskExecutor();
    private final Thread thread;
    private volatile boolean running = true;

    // Owned by the engine thread from here on.
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final Set<TaskRun> tasks = new LinkedHashSet<>();
    private final ReplyMatcher matcher;
    private final ByteBuffer out = ByteBuffer.allocateDirect(IcmpEcho.HEADER + 65_000).order(ByteOrder.BIG_ENDIAN);
    private final ReceivedPacket packet = new ReceivedPacket();
    private final int rawIdentifier;
    private long nextKey;
    private long timerOrder;

    private record FamilySocket(IcmpSocket socket, int identifier) {
    }

    private record Timer(long at, long order, Runnable action) implements Comparable<Timer> {
        @Override
        public int compareTo(Timer other) {
            int byTime = Long.compare(at, other.at);
            return byTime != 0 ? byTime : Long.compare(order, other.order);
        }
    }

    private record Resolved(String target, InetAddress address, String failure) {
    }

    private IcmpEngine(EngineClock clock) {
        this.clock = clock;
        SecureRandom random = new SecureRandom();
        this.matcher = new ReplyMatcher(random.nextLong());
        this.rawIdentifier = random.nextInt(1 << 16);
        this.nextKey = random.nextLong();
        for (IcmpFamily family : IcmpFamily.values()) {
            try {
                IcmpSocket socket = IcmpSocket.open(family);
                socket.acceptOnly(family.echoReply());
                socket.receiveBuffer(RECEIVE_BUFFER);
                int id = socket.mode() == IcmpSocket.Mode.RAW ? rawIdentifier : socket.identifier();
                sockets.put(family, new FamilySocket(socket, id));
            } catch (IcmpPermissionException e) {
                unavailable.put(family, e.getMessage());
            } catch (NativeException e) {
                unavailable.put(family, family.label() + " ICMP is not available here: " + e.getMessage());
            }
        }
        this.poller = new Poller(sockets.values().stream().map(FamilySocket::socket).toList());
        this.thread = new Thread(this::run, "mimoping-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Opens the ICMP sockets this process may open and starts the engine thread. */
    public static IcmpEngine open() {
        return new IcmpEngine(EngineClock.SYSTEM);
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
        return Optional.ofNullable(sockets.get(family)).map(s -> s.socket().mode());
    }

    @Override
    public RunningTask start(PingTask task, ProbeListener listener) {
        TaskRun run = new TaskRun(task, listener, clock.monotonicNanos());
        resolvers.execute(() -> {
            List<Resolved> resolved = resolve(task.targets());
            submit(() -> begin(run, resolved));
        });
        return () -> submit(() -> finish(run, clock.monotonicNanos()));
    }

    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        poller.wakeup();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        resolvers.shutdownNow();
        poller.close();
        sockets.values().forEach(s -> s.socket().close());
    }

    private List<Resolved> resolve(List<String> targets) {
        List<Future<Resolved>> lookups = new ArrayList<>(targets.size());
        try (ExecutorService lookup = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String target : targets) {
                lookups.add(lookup.submit(() -> {
                    try {
                        return new Resolved(target, InetAddress.getByName(target), null);
                    } catch (UnknownHostException e) {
                        return new Resolved(target, null, "host name '" + target + "' did not resolve");
                    }
                }));
            }
        }
        List<Resolved> resolved = new ArrayList<>(targets.size());
        for (Future<Resolved> lookup : lookups) {
            try {
                resolved.add(lookup.get());
            } catch (ExecutionException e) {
                throw new IllegalStateException("resolving targets failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while resolving targets", e);
            }
        }
        return resolved;
    }

    private void submit(Runnable command) {
        commands.add(command);
        poller.wakeup();
    }

    // ---- engine thread ----

    private void run() {
        try {
            while (running) {
                Runnable command;
                while ((command = commands.poll()) != null) {
                    command.run();
                }
                // Replies are read before deadlines fire, and only deadlines passed before the read fire:
                // a reply that arrived in time counts even when this thread runs late.
                long now = clock.monotonicNanos();
                drain();
                fireDueTimers(now);
                long wait = timers.isEmpty() ? IDLE_WAIT_NANOS : timers.peek().at() - clock.monotonicNanos();
                if (wait > 0 && commands.isEmpty()) {
                    poller.await(wait);
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "probe engine stopped by an unexpected failure", e);
        } finally {
            running = false;
            for (TaskRun task : tasks) {
                task.emit(ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null,
                        "the probe engine stopped while the task ran"));
                task.finish(clock.monotonicNanos());
            }
            tasks.clear();
        }
    }

    private void begin(TaskRun run, List<Resolved> resolved) {
        if (run.finished) {
            return;
        }
        tasks.add(run);
        PingTask task = run.task;
        long now = clock.monotonicNanos();
        long stagger = Math.min(task.interval().toNanos() / Math.max(1, resolved.size()), MAX_STAGGER_NANOS);
        run.unfinishedTargets = resolved.size();
        List<TargetRun> started = new ArrayList<>();
        for (Resolved target : resolved) {
            if (target.address() == null) {
                run.emit(ProbeError.ofTarget(ErrorCode.RESOLVE_FAILED, target.target(), target.failure()));
            } else if (!sockets.containsKey(IcmpFamily.of(target.address()))) {
                run.emit(ProbeError.ofTarget(ErrorCode.PERMISSION_DENIED, target.target(),
                        unavailable.get(IcmpFamily.of(target.address()))));
            } else {
                started.add(new TargetRun(run, target.target(), target.address(), now + started.size() * stagger));
                continue;
            }
            run.unfinishedTargets--;
        }
        if (started.isEmpty()) {
            finish(run, now);
            return;
        }
        for (TargetRun target : started) {
            schedule(target.firstSendNanos, () -> send(target));
        }
    }

    private void finish(TaskRun run, long now) {
        tasks.remove(run);
        run.finish(now);
    }

    private void fireDueTimers(long now) {
        for (int fired = 0; fired < SEND_BURST && !timers.isEmpty() && timers.peek().at() <= now; fired++) {
            timers.poll().action().run();
        }
    }

    private void schedule(long at, Runnable action) {
        timers.add(new Timer(at, timerOrder++, action));
    }

    private void send(TargetRun target) {
        TaskRun run = target.task;
        if (run.finished) {
            return;
        }
        PingTask task = run.task;
        FamilySocket family = sockets.get(IcmpFamily.of(target.address));
        long seq = target.nextSeq;
        long key = nextKey++;
        out.clear();
        IcmpEcho.write(out, IcmpFamily.of(target.address).echoRequest(), family.identifier(), (int) seq,
                matcher.cookie(), key, task.payloadSize());
        out.flip();
        long sentEpoch = clock.epochNanos();
        long sentMonotonic = clock.monotonicNanos();
        try {
            if (!family.socket().send(target.address, out)) {
                schedule(sentMonotonic + RETRY_NANOS, () -> send(target));
                return;
            }
        } catch (NativeException e) {
            target.nextSeq++;
            run.emit(ProbeError.ofProbe(ErrorCode.SEND_FAILED, target.name, seq, e.getMessage()));
            afterSend(target, sentMonotonic);
            return;
        }
        target.nextSeq++;
        target.sent++;
        target.waiting++;
        run.sent++;
        Probe probe = new Probe(target, seq, key, sentMonotonic, sentEpoch);
        matcher.remember(probe);
        schedule(sentMonotonic + task.timeout().toNanos(), () -> deadline(probe));
        afterSend(target, sentMonotonic);
    }

    private void afterSend(TargetRun target, long now) {
        if (target.nextSeq < target.task.task.count()) {
            schedule(target.dueNanos(target.nextSeq), () -> send(target));
        } else if (target.done()) {
            finishTarget(target, now);
        }
    }

    private void deadline(Probe probe) {
        TargetRun target = probe.target;
        TaskRun run = target.task;
        long now = clock.monotonicNanos();
        if (run.finished) {
            matcher.forget(probe);
            return;
        }
        // Remembered for one more timeout, so a late reply is reported once, not mistaken or lost.
        schedule(now + run.task.timeout().toNanos(), () -> matcher.forget(probe));
        if (!probe.expire()) {
            return;
        }
        target.waiting--;
        run.timeouts++;
        run.emit(new Timeout(target.name, target.address, probe.seq, instant(probe.sentEpochNanos)));
        if (target.done()) {
            finishTarget(target, now);
        }
    }

    private void finishTarget(TargetRun target, long now) {
        target.finished = true;
        TaskRun run = target.task;
        run.emit(target.stats());
        run.targetFinished(now);
        if (run.finished) {
            tasks.remove(run);
        }
    }

    private void drain() {
        for (Map.Entry<IcmpFamily, FamilySocket> entry : sockets.entrySet()) {
            IcmpFamily family = entry.getKey();
            FamilySocket socket = entry.getValue();
            boolean verifyChecksum = family == IcmpFamily.V4 && socket.socket().mode() == IcmpSocket.Mode.RAW;
            for (int i = 0; i < DRAIN_BURST && socket.socket().receive(packet); i++) {
                Probe probe = matcher.match(packet, family, socket.identifier(), verifyChecksum);
                if (probe != null) {
                    onReply(probe);
                }
            }
        }
    }

    private void onReply(Probe probe) {
        TargetRun target = probe.target;
        if (target.finished || target.task.finished) {
            return;
        }
        Reply.Kind kind = probe.accept();
        if (kind == null) {
            return;
        }
        long rtt = packet.kernelTimeNanos() != 0
                ? packet.kernelTimeNanos() - probe.sentEpochNanos
                : clock.epochNanos() - probe.sentEpochNanos;
        if (rtt < 0) {
            // The wall clock was stepped between send and receive: fall back to the monotonic clock.
            rtt = clock.monotonicNanos() - probe.sentMonotonicNanos;
        }
        TaskRun run = target.task;
        switch (kind) {
            case FIRST -> {
                target.answered(rtt, packet.ttl());
                run.received++;
            }
            case DUPLICATE -> target.duplicates++;
            case LATE -> { }
        }
        run.emit(new Reply(target.name, target.address, probe.seq, packet.ttl(), packet.length(),
                IcmpEcho.id(packet.message(), packet.offset()), rtt, instant(probe.sentEpochNanos), kind));
        if (kind == Reply.Kind.FIRST && target.done()) {
            finishTarget(target, clock.monotonicNanos());
        }
    }

    private static Instant instant(long epochNanos) {
        return Instant.ofEpochSecond(0, epochNanos);
    }
}
