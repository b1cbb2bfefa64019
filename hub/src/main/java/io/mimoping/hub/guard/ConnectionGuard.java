package io.mimoping.hub.guard;

import io.helidon.common.socket.SocketOptions;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http2.Http2ConnectionSelector;
import io.helidon.webserver.spi.ServerConnectionSelector;
import io.mimoping.agent.observe.Metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Guards the hub's listener against connections it cannot afford, as nginx and HAProxy guard theirs. It sees
 * every connection as it is accepted ({@link #install} makes it the listener's socket options) and:
 * <ul>
 *   <li>refuses it at once (it is accepted and closed) when the listener holds {@link ConnectionLimits#maxConnections()},
 *   when its client address holds {@link ConnectionLimits#maxPerClient()}, or when the process is within
 *   {@value #FD_HEADROOM} file descriptors of its limit: accepting can then never fail for want of one, which
 *   would stop Helidon's listener for good. An HTTP/1 connection idle between two requests is closed first,
 *   the one idle longest, to make room;</li>
 *   <li>follows each HTTP/1 connection through its requests (Helidon's HTTP/1 listeners and a routing filter) and
 *   closes it when a request header, a request body or the next request is late: a connection that never sends
 *   a byte, or sends its header a byte at a time, holds nothing for long. Once a request is answered its stream
 *   takes as long as it takes; WebSocket connections and HTTP/2 (gRPC) ones are left to their own protocols.</li>
 * </ul>
 * Refusals and closes are counted by reason for {@code /metrics} and logged at most once per
 * {@link #REPORT_EVERY}, with their counts.
 */
public final class ConnectionGuard {

    private static final Logger LOG = Logger.getLogger(ConnectionGuard.class.getName());
    /** How often refusals and closes are logged, each time with their counts, while they happen. */
    static final Duration REPORT_EVERY = Duration.ofSeconds(10);
    /** File descriptors kept free: below this many the listener takes no new connection. */
    static final int FD_HEADROOM = 32;
    /** Helidon's own cap on the listener's connections stands this far above ours (connections closing). */
    static final int BACKSTOP_SLACK = 64;
    private static final long PURGE_EVERY = Duration.ofMillis(100).toNanos();
    private static final long FD_SAMPLE_EVERY = Duration.ofSeconds(1).toNanos();
    /** Client addresses remembered between two reports for naming who was refused most. */
    private static final int REFUSED_CLIENTS = 1024;

    /** Why a new connection was refused. */
    public enum Refusal {
        /** The listener holds as many connections as it may. */
        LISTENER_FULL,
        /** The client's address holds as many connections as one address may. */
        CLIENT_FULL,
        /** The process is about to run out of file descriptors. */
        FDS_LOW;

        /** The value of the {@code reason} label. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Why the guard closed a connection. */
    public enum Cut {
        /** No whole request header in time. */
        HEADER_TIMEOUT,
        /** A request body not read (the request not answered) in time. */
        BODY_TIMEOUT,
        /** No next request in time on an idle keep-alive connection. */
        IDLE_TIMEOUT,
        /** Idle keep-alive connection closed to make room for a new one. */
        SHED_IDLE;

        /** The value of the {@code reason} label. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where an accepted connection is in its requests. */
    private enum State {
        /** Accepted, no whole request header yet. */
        NEW,
        /** The first line of a request that followed an idle keep-alive, not yet the whole header. */
        HEADER,
        /** A request with a body, not yet answered. */
        BODY,
        /** A request being answered (a stream may take hours). */
        BUSY,
        /** Between two requests. */
        IDLE,
        /** Upgraded (WebSocket): its protocol keeps it. */
        UPGRADED,
        /** HTTP/2 with prior knowledge (gRPC): its protocol keeps it. */
        HTTP2;

        Cut late() {
            return switch (this) {
                case NEW, HEADER -> Cut.HEADER_TIMEOUT;
                case BODY -> Cut.BODY_TIMEOUT;
                case IDLE -> Cut.IDLE_TIMEOUT;
                case BUSY, UPGRADED, HTTP2 -> null;
            };
        }
    }

    /** A connection by its two ends, as both the socket and Helidon's contexts name it. */
    record Peer(SocketAddress remote, SocketAddress local) {
    }

    /** Whom a per-client cap counts: an IPv4 address, or an IPv6 address's /64 (what one host usually has). */
    record Client(InetAddress address, int bits) {

        static Client of(InetAddress address) {
            if (!(address instanceof Inet6Address)) {
                return new Client(address, 32);
            }
            byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
            Arrays.fill(prefix, 8, 16, (byte) 0);
            try {
                return new Client(InetAddress.getByAddress(prefix), 64);
            } catch (UnknownHostException e) {
                throw new IllegalStateException("16 bytes are an IPv6 address", e);
            }
        }

        @Override
        public String toString() {
            return address.getHostAddress() + (bits == 64 ? "/64" : "");
        }
    }

    /** What a client address holds. */
    private static final class Slots {
        int open;
        int idle;
    }

    private static final class Conn {
        final SocketChannel channel;
        final Peer peer;
        final Client client;
        State state = State.NEW;
        long deadline;

        Conn(SocketChannel channel, Peer peer, Client client, long deadline) {
            this.channel = channel;
            this.peer = peer;
            this.client = client;
            this.deadline = deadline;
        }
    }

    /** Thrown from the accept hook: Helidon closes the socket and goes on accepting. */
    static final class RefusedException extends RuntimeException {
        RefusedException(String message) {
            super(message, null, false, false);
        }
    }

    private final ConnectionLimits limits;
    private final long headerNanos;
    private final long idleNanos;
    private final long bodyNanos;
    private final Duration period;
    private final Map<Refusal, LongAdder> refused = new EnumMap<>(Refusal.class);
    private final Map<Cut, LongAdder> cut = new EnumMap<>(Cut.class);

    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock
    private final Map<Peer, Conn> conns = new HashMap<>();
    private final Map<Client, Slots> clients = new HashMap<>();
    private final SequencedSet<Conn> idle = new LinkedHashSet<>();
    private final Map<Client, Integer> refusedBy = new HashMap<>();
    private long lastPurge;

    private final HttpEvents events = new HttpEvents(this);
    private final Predicate<SocketAddress> ownProbes;
    private volatile boolean fdsLow;
    private Thread sweeper;

    /** @param limits fitted limits ({@link ConnectionLimits#fitted}): no {@link ConnectionLimits#AUTO} left */
    public ConnectionGuard(ConnectionLimits limits) {
        this(limits, clientSide -> false);
    }

    /**
     * @param limits    fitted limits ({@link ConnectionLimits#fitted}): no {@link ConnectionLimits#AUTO} left
     * @param ownProbes whether a connection from an address is the hub's own probe of its listener: admitted
     *                  beyond the caps (a flood that fills them must not pass for a dead listener), still counted
     */
    public ConnectionGuard(ConnectionLimits limits, Predicate<SocketAddress> ownProbes) {
        this.ownProbes = ownProbes;
        if (limits.maxConnections() == ConnectionLimits.AUTO || limits.maxPerClient() == ConnectionLimits.AUTO) {
            throw new IllegalArgumentException("fit the limits first: " + limits);
        }
        this.limits = limits;
        headerNanos = limits.headerTimeout().toNanos();
        idleNanos = limits.idleTimeout().toNanos();
        bodyNanos = limits.bodyTimeout().toNanos();
        Duration shortest = limits.headerTimeout();
        shortest = shortest.compareTo(limits.idleTimeout()) < 0 ? shortest : limits.idleTimeout();
        shortest = shortest.compareTo(limits.bodyTimeout()) < 0 ? shortest : limits.bodyTimeout();
        period = Duration.ofMillis(Math.clamp(shortest.toMillis() / 4, 50, 1000));
        for (Refusal reason : Refusal.values()) {
            refused.put(reason, new LongAdder());
        }
        for (Cut reason : Cut.values()) {
            cut.put(reason, new LongAdder());
        }
    }

    public ConnectionLimits limits() {
        return limits;
    }

    /**
     * Guards {@code server}'s default listener: accepted sockets get {@code socket}'s options and then pass
     * this guard; Helidon's own cap ({@code max-tcp-connections}) stands a little above ours as a backstop.
     * The listener's HTTP/2 selector (the gRPC guard's) must be in place already: the guard learns through it
     * which connections are HTTP/2. The listener's routing must also have {@link #filter()}, first.
     */
    public void install(WebServerConfig.Builder server, SocketOptions socket) {
        server.connectionOptions(new GuardedSocketOptions(socket, this));
        server.maxTcpConnections((int) Math.min(Integer.MAX_VALUE, (long) limits.maxConnections() + BACKSTOP_SLACK));
        server.addProtocol(Http1Config.builder()
                .addReceiveListener(events.receiving())
                .addSendListener(events.sending())
                .build());
        List<ServerConnectionSelector> selectors = new ArrayList<>(server.connectionSelectors());
        int http2 = IntStream.range(0, selectors.size())
                .filter(i -> selectors.get(i) instanceof Http2ConnectionSelector).findFirst()
                .orElseThrow(() -> new IllegalStateException("install the connection guard after the listener's HTTP/2"
                        + " selector (GrpcGuard.install): it marks HTTP/2 connections through it"));
        selectors.set(http2, new Http2Marking(this, selectors.get(http2)));
        server.connectionSelectors(selectors);
    }

    /** The routing filter that tells the guard when a request was answered; it also starts and stops the guard. */
    public Filter filter() {
        return events;
    }

    /** Connections open now. */
    public int open() {
        lock.lock();
        try {
            return conns.size();
        } finally {
            lock.unlock();
        }
    }

    /** Adds the guard's metrics; {@code slowReadersCut} counts the stream clients cut off elsewhere. */
    public void register(Metrics metrics, DoubleSupplier slowReadersCut) {
        metrics.gauge("mimoping_connections", "HTTP connections open on the hub's listener now", this::open);
        SequencedMap<String, DoubleSupplier> caps = new LinkedHashMap<>();
        caps.put("listener", limits::maxConnections);
        caps.put("client", () -> limits.maxPerClient() == 0 ? limits.maxConnections() : limits.maxPerClient());
        metrics.gauge("mimoping_connections_limit", "Most connections the listener holds at once, and one client address",
                "scope", caps);
        SequencedMap<String, DoubleSupplier> refusals = new LinkedHashMap<>();
        refused.forEach((reason, count) -> refusals.put(reason.label(), count::sum));
        metrics.counter("mimoping_connections_refused_total", "Connections refused as they were accepted, by reason",
                "reason", refusals);
        SequencedMap<String, DoubleSupplier> closes = new LinkedHashMap<>();
        cut.forEach((reason, count) -> closes.put(reason.label(), count::sum));
        closes.put("slow_reader", slowReadersCut);
        metrics.counter("mimoping_connections_closed_total", "Connections the hub closed on a client, by reason",
                "reason", closes);
        metrics.gauge("process_open_fds", "Open file descriptors", () -> FdBudget.now().open());
        metrics.gauge("process_max_fds", "Most file descriptors the process may open", () -> FdBudget.now().limit());
    }

    /** The accept hook: admits {@code channel}, or throws and Helidon closes it. */
    void admit(SocketChannel channel) {
        InetSocketAddress remote;
        Peer peer;
        try {
            remote = (InetSocketAddress) channel.getRemoteAddress();
            peer = new Peer(remote, channel.getLocalAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Client client = Client.of(remote.getAddress());
        boolean probe = ownProbes.test(remote);
        List<Conn> shed = new ArrayList<>(2);
        Refusal refusal = null;
        lock.lock();
        try {
            long now = System.nanoTime();
            Slots slots = clients.get(client);
            boolean clientFull = limits.maxPerClient() > 0 && slots != null && slots.open >= limits.maxPerClient();
            if ((clientFull || fdsLow || conns.size() >= limits.maxConnections()) && now - lastPurge > PURGE_EVERY) {
                purgeClosed(now);
            }
            if (!probe && (fdsLow || conns.size() >= limits.maxConnections())) {
                Conn oldest = idle.isEmpty() ? null : idle.getFirst();
                if (oldest == null) {
                    refusal = fdsLow ? Refusal.FDS_LOW : Refusal.LISTENER_FULL;
                } else {
                    shed.add(unlink(oldest));
                }
            }
            slots = clients.get(client);
            if (!probe && refusal == null && limits.maxPerClient() > 0 && slots != null && slots.open >= limits.maxPerClient()) {
                Conn oldest = slots.idle == 0 ? null : oldestIdleOf(client);
                if (oldest == null) {
                    refusal = Refusal.CLIENT_FULL;
                } else {
                    shed.add(unlink(oldest));
                }
            }
            if (refusal == null) {
                conns.put(peer, new Conn(channel, peer, client, now + headerNanos));
                clients.computeIfAbsent(client, c -> new Slots()).open++;
            } else if (refusedBy.size() < REFUSED_CLIENTS || refusedBy.containsKey(client)) {
                refusedBy.merge(client, 1, Integer::sum);
            }
        } finally {
            lock.unlock();
        }
        for (Conn conn : shed) {
            cut.get(Cut.SHED_IDLE).increment();
            close(conn.channel);
        }
        if (refusal != null) {
            refused.get(refusal).increment();
            throw new RefusedException("refused a connection from " + client + ": " + refusal.label());
        }
    }

    /** The first line of a request came. */
    void prologue(Peer peer) {
        update(peer, conn -> {
            if (conn.state == State.IDLE) {
                leaveIdle(conn);
                conn.state = State.HEADER;
                conn.deadline = System.nanoTime() + headerNanos;
            }
            return null;
        });
    }

    /** A request's whole header came; {@code body}: a body follows. */
    void headers(Peer peer, boolean body) {
        update(peer, conn -> {
            if (conn.state == State.NEW || conn.state == State.HEADER) {
                conn.state = body ? State.BODY : State.BUSY;
                conn.deadline = System.nanoTime() + bodyNanos;
            }
            return null;
        });
    }

    /** A response began with {@code status}. */
    void status(Peer peer, int status) {
        update(peer, conn -> {
            if (conn.state == State.BODY || conn.state == State.BUSY) {
                conn.state = status == 101 ? State.UPGRADED : State.BUSY;
            }
            return null;
        });
    }

    /**
     * A request was answered: an HTTP/1 connection now waits for its next request; {@code close}: its response
     * said {@code Connection: close}, so its output is ended (the client sees the end of the response).
     */
    void responded(Peer peer, boolean close) {
        SocketChannel ended = update(peer, conn -> {
            if (conn.state != State.BODY && conn.state != State.BUSY) {
                return null;
            }
            conn.state = State.IDLE;
            conn.deadline = System.nanoTime() + idleNanos;
            idle.add(conn);
            clients.get(conn.client).idle++;
            return close ? conn.channel : null;
        });
        if (ended != null) {
            try {
                ended.shutdownOutput();
            } catch (IOException e) {
                LOG.fine(() -> "ending a connection's output: " + e);
            }
        }
    }

    /** The connection speaks HTTP/2 (its preface came). */
    void http2(Peer peer) {
        update(peer, conn -> {
            if (conn.state == State.NEW) {
                conn.state = State.HTTP2;
            }
            return null;
        });
    }

    /** Applies {@code change} to the connection of {@code peer}, if the guard admitted it and it is open. */
    private <T> T update(Peer peer, Function<Conn, T> change) {
        lock.lock();
        try {
            Conn conn = conns.get(peer);
            return conn == null ? null : change.apply(conn);
        } finally {
            lock.unlock();
        }
    }

    /** Starts closing late connections and reporting. */
    void start() {
        lock.lock();
        try {
            if (sweeper == null) {
                sweeper = Thread.ofPlatform().daemon().name("mimoping-connection-guard").start(this::sweepLoop);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops the sweeping; the server closes the connections. */
    void stop() {
        Thread running;
        lock.lock();
        try {
            running = sweeper;
            sweeper = null;
        } finally {
            lock.unlock();
        }
        if (running != null) {
            running.interrupt();
        }
    }

    private void sweepLoop() {
        long nextFds = 0;
        long nextReport = System.nanoTime() + REPORT_EVERY.toNanos();
        long[] refusedReported = new long[Refusal.values().length];
        long[] cutReported = new long[Cut.values().length];
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(period);
                long now = System.nanoTime();
                sweep(now);
                if (now - nextFds >= 0) {
                    FdBudget fds = FdBudget.now();
                    fdsLow = fds.open() >= fds.limit() - FD_HEADROOM;
                    nextFds = now + FD_SAMPLE_EVERY;
                }
                if (now - nextReport >= 0) {
                    report(refusedReported, cutReported);
                    nextReport = now + REPORT_EVERY.toNanos();
                }
            }
        } catch (InterruptedException e) {
            // stopped
        }
    }

    /** Forgets closed connections and closes the late ones. */
    void sweep(long now) {
        List<Conn> late = new ArrayList<>();
        lock.lock();
        try {
            lastPurge = now;
            Iterator<Conn> all = conns.values().iterator();
            while (all.hasNext()) {
                Conn conn = all.next();
                Cut reason = conn.state.late();
                if (!conn.channel.isOpen() || (reason != null && now - conn.deadline > 0)) {
                    all.remove();
                    forget(conn);
                    if (conn.channel.isOpen()) {
                        late.add(conn);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        for (Conn conn : late) {
            cut.get(conn.state.late()).increment();
            close(conn.channel);
        }
    }

    private void report(long[] refusedReported, long[] cutReported) {
        String refusals = since(refused, refusedReported, reason -> switch (reason) {
            case LISTENER_FULL -> "the listener at its cap of " + limits.maxConnections();
            case CLIENT_FULL -> "an address at its cap of " + limits.maxPerClient();
            case FDS_LOW -> "file descriptors low";
        });
        if (!refusals.isEmpty()) {
            String top;
            lock.lock();
            try {
                top = refusedBy.entrySet().stream().sorted(Map.Entry.<Client, Integer>comparingByValue().reversed())
                        .limit(3).map(e -> e.getKey() + " (" + e.getValue() + ")").collect(Collectors.joining(", "));
                refusedBy.clear();
            } finally {
                lock.unlock();
            }
            LOG.warning("refused " + refusals + "; most from " + top);
        }
        String cuts = since(cut, cutReported, reason -> switch (reason) {
            case HEADER_TIMEOUT -> "no whole request header within " + limits.headerTimeout().toMillis() + " ms";
            case BODY_TIMEOUT -> "no request body within " + limits.bodyTimeout().toMillis() + " ms";
            case IDLE_TIMEOUT -> "no next request within " + limits.idleTimeout().toMillis() + " ms";
            case SHED_IDLE -> "idle, closed to make room";
        });
        if (!cuts.isEmpty()) {
            LOG.info("closed " + cuts);
        }
    }

    /** "N connection(s) in the last 10 s: a for this, b for that", counting since the last report, or "". */
    private static <R extends Enum<R>> String since(Map<R, LongAdder> counts, long[] reported,
                                                   Function<R, String> describe) {
        long total = 0;
        List<String> parts = new ArrayList<>();
        for (Map.Entry<R, LongAdder> entry : counts.entrySet()) {
            int i = entry.getKey().ordinal();
            long now = entry.getValue().sum();
            long delta = now - reported[i];
            reported[i] = now;
            if (delta > 0) {
                total += delta;
                parts.add(delta + " " + describe.apply(entry.getKey()));
            }
        }
        return total == 0 ? "" : total + " connection(s) in the last " + REPORT_EVERY.toSeconds() + " s: "
                + String.join(", ", parts);
    }

    private void purgeClosed(long now) {
        lastPurge = now;
        Iterator<Conn> all = conns.values().iterator();
        while (all.hasNext()) {
            Conn conn = all.next();
            if (!conn.channel.isOpen()) {
                all.remove();
                forget(conn);
            }
        }
    }

    private Conn oldestIdleOf(Client client) {
        for (Conn conn : idle) {
            if (conn.client.equals(client)) {
                return conn;
            }
        }
        return null;
    }

    /** Removes {@code conn} from every table; returns it. */
    private Conn unlink(Conn conn) {
        conns.remove(conn.peer);
        forget(conn);
        return conn;
    }

    /** Removes {@code conn}, already out of {@link #conns}, from the other tables. */
    private void forget(Conn conn) {
        if (conn.state == State.IDLE) {
            leaveIdle(conn);
        }
        Slots slots = clients.get(conn.client);
        if (--slots.open == 0) {
            clients.remove(conn.client);
        }
    }

    private void leaveIdle(Conn conn) {
        idle.remove(conn);
        clients.get(conn.client).idle--;
    }

    private static void close(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.fine(() -> "closing a connection: " + e);
        }
    }
}
