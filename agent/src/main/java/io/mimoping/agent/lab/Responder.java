package io.mimoping.agent.lab;

import io.mimoping.agent.engine.Threads;
import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.NetworkNamespace;
import io.mimoping.agent.icmp.Poller;
import io.mimoping.agent.icmp.RealtimeScheduling;
import io.mimoping.agent.icmp.ReceivedPacket;
import io.mimoping.agent.icmp.TxTimestamps;
import io.mimoping.agent.icmp.WallClock;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The emulated targets: one platform thread inside the lab's namespace owns a raw ICMP socket bound to
 * each target address and answers every echo request as that target's {@link Behaviour} says.
 *
 * <p>A reply's delay counts from the request's kernel receive timestamp, and its due time is the kernel
 * transmit timestamp it should get: both on the wall clock, so the thread's own wake-up latency adds
 * nothing. Replies wait in a queue ordered by due time. The thread sleeps in {@code ppoll} until a request
 * arrives or the next reply is {@link #SPIN_NANOS} from due, then spins on the clock alone, with no system
 * call, and starts the send as long before due as the quickest recent send took to reach the kernel's
 * stamp (learnt from the stamps of earlier replies), so a reply leaves on time and never early. Requests
 * that arrive meanwhile keep their kernel receive stamps and are read right after each send. It runs under
 * SCHED_FIFO, so ordinary threads cannot delay it. The price is a busy CPU for the last {@link #SPIN_NANOS}
 * before each delayed reply. Each reply's actual departure (its kernel transmit stamp) is recorded with its
 * request, so a test can judge a pinger by what the lab did, not by what it planned: a stalled host makes
 * replies leave late. Other threads set behaviours and read what was handled through concurrent maps.
 */
final class Responder implements AutoCloseable {

    private static final long IDLE_WAIT_NANOS = 100_000_000L;
    private static final long RETRY_NANOS = 50_000L;
    /**
     * How long before a reply is due the thread stops sleeping and spins: a wake-up can take that long. On
     * this kind of VM, loaded, a SCHED_FIFO thread's wake-up is over 100 µs late several times in a hundred
     * and over 1 ms about once in a hundred (a C cyclictest-like loop saw the same): those replies leave
     * late, and no userspace responder can help it. Spinning longer would cost more CPU at high rates, where
     * the kernel's real-time throttling (95 % of a CPU) would stop the thread for 50 ms.
     */
    private static final long SPIN_NANOS = 200_000L;
    /** Longest time a send is believed to take to reach its kernel stamp. */
    private static final long MAX_LEAD_NANOS = 100_000L;
    private static final long LEAD_WINDOW_NANOS = 100_000_000L;
    /** SCHED_FIFO priority of the responder thread: above every ordinary thread, so replies leave on time. */
    private static final int PRIORITY = 20;

    private final String namespace;
    private final List<InetAddress> targets;
    private final Map<InetAddress, Behaviour> behaviours = new ConcurrentHashMap<>();
    private final Map<InetAddress, Queue<Handling>> handled = new ConcurrentHashMap<>();
    private final CompletableFuture<Poller> started = new CompletableFuture<>();
    private final Thread thread;
    private final Poller poller;
    private volatile boolean running = true;
    private volatile RuntimeException failure;

    // Owned by the responder thread.
    private final PriorityQueue<Pending> pending = new PriorityQueue<>();
    private final ReceivedPacket packet = new ReceivedPacket();
    private final TxTimestamps stamps = new TxTimestamps(4);
    private final WallClock clock = new WallClock();
    /**
     * How long before its due time a reply's send starts: the shortest time from the start of a send call to
     * the kernel's transmit stamp in the last window, so that no reply ever leaves before it is due.
     */
    private long leadNanos;
    private long windowStart;
    private long quickestSendInWindow = Long.MAX_VALUE;
    private long order;

    /** A socket bound to one target address. */
    private record Bound(IcmpSocket socket, InetAddress address, IcmpFamily family) {
    }

    /**
     * A request as handled so far: the departures (wall clock, nanoseconds since the epoch; 0 until sent) of its
     * replies fill in as they leave, written by the responder thread, read by others.
     */
    private record Handling(int seq, long arrivalEpochNanos, List<Behaviour.Response> responses,
                            AtomicLongArray departures) {

        HandledRequest snapshot() {
            List<HandledRequest.Answer> answers = new ArrayList<>(responses.size());
            for (int i = 0; i < responses.size(); i++) {
                long left = departures.get(i);
                answers.add(new HandledRequest.Answer(responses.get(i),
                        left == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(0, left))));
            }
            return new HandledRequest(seq, Instant.ofEpochSecond(0, arrivalEpochNanos), answers);
        }
    }

    /**
     * Reply {@code index} of a request, waiting for its due time (wall clock, nanoseconds since the epoch); ties
     * keep arrival order.
     */
    private record Pending(long dueEpochNanos, long order, Bound from, InetAddress to, byte[] reply,
                           Handling request, int index)
            implements Comparable<Pending> {

        @Override
        public int compareTo(Pending other) {
            int byTime = Long.compare(dueEpochNanos, other.dueEpochNanos);
            return byTime != 0 ? byTime : Long.compare(order, other.order);
        }
    }

    /** Starts answering for these targets, each with {@link Behaviour#echo()} until told otherwise. */
    Responder(String namespace, List<InetAddress> targets) {
        this.namespace = namespace;
        this.targets = List.copyOf(targets);
        for (InetAddress target : targets) {
            behaviours.put(target, Behaviour.echo());
            handled.put(target, new ConcurrentLinkedQueue<>());
        }
        thread = new Thread(this::run, "mimolab-responder-" + namespace);
        thread.setDaemon(true);
        thread.start();
        try {
            poller = started.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the responder could not start in " + namespace + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the responder started", e);
        }
    }

    /** From now on, requests to this target meet this behaviour. */
    void behave(InetAddress target, Behaviour behaviour) {
        if (behaviours.replace(target, behaviour) == null) {
            throw new IllegalArgumentException(target.getHostAddress() + " is not a target of this lab");
        }
    }

    /** The requests this target received so far, in arrival order, and what it did about each. */
    List<HandledRequest> handled(InetAddress target) {
        Queue<Handling> requests = handled.get(target);
        if (requests == null) {
            throw new IllegalArgumentException(target.getHostAddress() + " is not a target of this lab");
        }
        return requests.stream().map(Handling::snapshot).toList();
    }

    /**
     * Stops answering and closes the sockets.
     *
     * @throws IllegalStateException if the responder thread failed while it ran
     */
    @Override
    public void close() {
        running = false;
        poller.wakeup();
        Threads.joinUninterruptibly(thread);
        poller.close();
        if (failure != null) {
            throw new IllegalStateException("the responder in " + namespace + " failed", failure);
        }
    }

    // ---- responder thread ----

    private void run() {
        List<Bound> sockets = new ArrayList<>();
        try {
            NetworkNamespace.enterOnCurrentThread(namespace);
            RealtimeScheduling.enterOnCurrentThread(PRIORITY);
            for (InetAddress target : targets) {
                IcmpFamily family = IcmpFamily.of(target);
                IcmpSocket socket = IcmpSocket.open(family, IcmpSocket.Mode.RAW);
                sockets.add(new Bound(socket, target, family));
                socket.acceptOnly(family.echoRequest());
                socket.bind(target);
                socket.timestampTransmits(false);
            }
            Poller waiting = new Poller(sockets.stream().map(Bound::socket).toList());
            started.complete(waiting);
            serve(sockets, waiting);
        } catch (RuntimeException e) {
            if (!started.completeExceptionally(e)) {
                failure = e;
            }
        } finally {
            sockets.forEach(bound -> bound.socket().close());
            stamps.close();
        }
    }

    private void serve(List<Bound> sockets, Poller waiting) {
        while (running) {
            learnLead();
            if (!pending.isEmpty()) {
                long sendAt = pending.peek().dueEpochNanos() - leadNanos;
                long now = clock.nanos();
                if (sendAt - now <= SPIN_NANOS) {
                    while (now < sendAt) {
                        Thread.onSpinWait();
                        now = clock.nanos();
                    }
                    sendDue(now);
                }
            }
            // Read requests after every send, busy or not: unread, they would wait, or overflow the socket.
            for (Bound bound : sockets) {
                while (bound.socket().receive(packet)) {
                    answer(bound);
                }
            }
            long wait = pending.isEmpty() ? IDLE_WAIT_NANOS
                    : pending.peek().dueEpochNanos() - leadNanos - SPIN_NANOS - clock.nanos();
            if (wait > 0) {
                waiting.await(wait);
            }
        }
    }

    /** Every {@link #LEAD_WINDOW_NANOS}, takes the quickest send of the window as the lead of the next. */
    private void learnLead() {
        long now = System.nanoTime();
        if (now - windowStart > LEAD_WINDOW_NANOS) {
            windowStart = now;
            if (quickestSendInWindow != Long.MAX_VALUE) {
                leadNanos = quickestSendInWindow;
                quickestSendInWindow = Long.MAX_VALUE;
            }
        }
    }

    /** Sends every reply that should leave by {@code now}, and learns from their stamps how long a send takes. */
    private void sendDue(long now) {
        while (!pending.isEmpty() && pending.peek().dueEpochNanos() - leadNanos <= now) {
            Pending reply = pending.poll();
            long callAt = clock.nanos();
            if (!reply.from().socket().send(reply.to(), ByteBuffer.wrap(reply.reply()))) {
                pending.add(new Pending(callAt + RETRY_NANOS, reply.order(), reply.from(), reply.to(), reply.reply(),
                        reply.request(), reply.index()));
                return;
            }
            long returned = clock.nanos();
            // The kernel stamped the reply as it left (veth stamps inside the send call): when it really went. A
            // stamp from before the call is an earlier send's; without one, the send's return bounds the departure.
            int stamped = stamps.read(reply.from().socket());
            long stamp = stamped > 0 ? stamps.stampNanos(stamped - 1) : 0;
            if (stamp >= callAt) {
                quickestSendInWindow = Math.min(quickestSendInWindow, Math.clamp(stamp - callAt, 0, MAX_LEAD_NANOS));
            }
            reply.request().departures().set(reply.index(), stamp >= callAt ? stamp : returned);
        }
    }

    private void answer(Bound bound) {
        ByteBuffer message = packet.message();
        int at = packet.offset();
        if (packet.length() < IcmpEcho.HEADER || IcmpEcho.type(message, at) != bound.family().echoRequest()) {
            return;
        }
        // Delays count from the kernel's receive timestamp.
        long arrivalEpoch = packet.kernelTimeNanos() != 0 ? packet.kernelTimeNanos() : clock.nanos();
        int seq = IcmpEcho.seq(message, at);
        List<Behaviour.Response> responses = behaviours.get(bound.address()).respond(seq);
        Handling request = new Handling(seq, arrivalEpoch, List.copyOf(responses),
                new AtomicLongArray(responses.size()));
        handled.get(bound.address()).add(request);
        if (responses.isEmpty()) {
            return;
        }
        byte[] bytes = new byte[packet.length()];
        message.get(at, bytes);
        InetAddress sender = packet.source();
        for (int i = 0; i < responses.size(); i++) {
            Behaviour.Response response = responses.get(i);
            pending.add(new Pending(arrivalEpoch + response.delay().toNanos(), order++, bound, sender,
                    reply(bytes, bound.family(), response.tamper()), request, i));
        }
    }

    /** The echo reply to a request (an ICMP message without IP header), spoiled as asked. */
    private static byte[] reply(byte[] request, IcmpFamily family, Behaviour.Tamper tamper) {
        byte[] bytes = request.clone();
        ByteBuffer reply = ByteBuffer.wrap(bytes);
        reply.put(0, (byte) family.echoReply());
        switch (tamper) {
            case NONE, BAD_CHECKSUM -> { }
            case FOREIGN_ID -> reply.putShort(4, (short) (IcmpEcho.id(reply, 0) + 1));
            case WRONG_COOKIE -> {
                for (int i = IcmpEcho.HEADER; i < Math.min(bytes.length, IcmpEcho.HEADER + IcmpEcho.TAG); i++) {
                    bytes[i] = (byte) ~bytes[i];
                }
            }
        }
        reply.putShort(2, (short) 0);
        int checksum = IcmpEcho.checksum(reply, 0, bytes.length);
        // XOR with 0x0101 never turns 0x0000 into 0xffff, the other ones'-complement zero.
        reply.putShort(2, (short) (tamper == Behaviour.Tamper.BAD_CHECKSUM ? checksum ^ 0x0101 : checksum));
        return bytes;
    }
}
