package io.mimoping.agent.observe;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SequencedMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;

/**
 * Probes of this process's own listener, used as its clients use it: each round opens a new connection to the
 * listener and makes one exchange per probe (an HTTP request, a WebSocket handshake, a gRPC call), so a listener
 * that no longer accepts fails them. That is what its own server cannot say: when {@code accept()} fails (such
 * as with EMFILE, out of file descriptors) Helidon's listener stops for good, while its {@code WebServer} still
 * says it runs. The results are checks for {@code /health/*}, the systemd watchdog and {@code STATUS=}, and
 * series in {@code /metrics}.
 *
 * <p>Probes come from loopback (a listener bound to the wildcard address is probed at the loopback address of
 * its family), one connection at a time, closed after use, on a thread of their own: rounds every
 * {@value #PERIOD_MS} ms, each exchange bounded by {@value #TIMEOUT_MS} ms, never more than one in flight and
 * never on the request path. A probe is DOWN only after {@value #FAILURES} failures in a row. That is the
 * trade-off of probing oneself: a hub under load may be slow to accept or to answer for a moment (a full
 * connection cap, a burst of accepts, a long GC pause), and a restart for one blip would drop every stream and
 * agent it serves; the price is that a dead listener (its port refuses at once) is reported about
 * {@value #FAILURES} s late, and one that hangs without refusing after {@value #FAILURES} rounds of timeouts,
 * well inside the units' {@code WatchdogSec=30s}.
 */
public final class ListenerProbes implements AutoCloseable {

    static final int PERIOD_MS = 1_000;
    static final int TIMEOUT_MS = 2_000;
    /** Failures in a row that make a probe DOWN (and the process not live). */
    public static final int FAILURES = 3;

    private static final Duration TIMEOUT = Duration.ofMillis(TIMEOUT_MS);
    /** Largest response read (a health answer is far smaller). */
    private static final int MAX_RESPONSE = 64 * 1024;
    private static final byte[] WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".getBytes(StandardCharsets.US_ASCII);
    private static final int WS_CLOSE = 0x8;
    private static final int WS_NORMAL_CLOSURE = 1000;

    /** One exchange with the listener, made on a fresh connection each round. */
    public sealed interface Probe {

        /** Short name, for the checks and the {@code probe} label of the metrics. */
        String name();

        /** What it does, for a person. */
        String what();

        /**
         * {@code GET path} over HTTP/1.1; any answer 200 or 503 counts, as a health endpoint answers either (it
         * may say DOWN because of this very probe: the listener still served it).
         */
        record Http(String name, String path) implements Probe {
            @Override
            public String what() {
                return "GET " + path;
            }
        }

        /**
         * A WebSocket opening handshake on {@code path} (answered {@code 101} with the right accept key), then a
         * close frame that the endpoint answers with its own: the upgrade and the WebSocket connection both
         * served, and no message sent to the endpoint.
         */
        record WebSocket(String name, String path) implements Probe {
            @Override
            public String what() {
                return "WebSocket upgrade of " + path;
            }
        }

        /**
         * One gRPC call over h2c, which must succeed: {@code call} makes it on the channel it is given (which sets
         * the deadline), throwing its {@link StatusRuntimeException} if it fails.
         */
        record Grpc(String name, String method, Consumer<Channel> call) implements Probe {
            @Override
            public String what() {
                return "gRPC " + method;
            }
        }
    }

    /**
     * The last round's result of one probe.
     *
     * @param ok       whether it answered
     * @param nanos    how long the exchange took
     * @param reason   why it failed ({@code null} when ok)
     * @param inARow   failures in a row up to this one (0 when ok)
     * @param failingSince when the failures in a row began ({@code null} when ok)
     */
    private record Outcome(boolean ok, long nanos, String reason, int inARow, Instant failingSince) {
    }

    /** One probe and its results; written only by the probing thread. */
    private static final class Tracked {

        final Probe probe;
        volatile Outcome last;
        final AtomicLong failures = new AtomicLong();

        Tracked(Probe probe) {
            this.probe = probe;
        }
    }

    private final List<Tracked> probes = new ArrayList<>();
    private final SecureRandom random = new SecureRandom();
    private final Thread thread;
    private volatile boolean closed;
    /** Set by {@link #start}, before the thread starts. */
    private InetSocketAddress target;
    /** {@link #target} for a person; read by the threads asking for {@link #checks()}. */
    private volatile String address = "?";
    /**
     * The client-side addresses of this prober's connections while its probe runs: its listener's guard admits
     * them beyond its connection caps ({@link #isOwn}), so that a flood that fills the caps is not taken for a dead
     * listener.
     */
    private final Set<SocketAddress> own = ConcurrentHashMap.newKeySet();
    /** The gRPC probes' one I/O thread, owned here: a channel per probe, closed after use, shares it. */
    private NioEventLoopGroup grpcLoop;

    /** Probes that {@link #start} starts; their series are registered in {@code metrics} now. */
    public ListenerProbes(List<Probe> probes, Metrics metrics) {
        for (Probe probe : probes) {
            this.probes.add(new Tracked(probe));
        }
        thread = Thread.ofPlatform().daemon().name("mimoping-listener-probes").unstarted(this::run);
        metrics.gauge("mimoping_listener_probe_up", "1 if the last probe of this process's own listener was answered",
                "probe", series(t -> t.last != null && t.last.ok() ? 1 : 0));
        metrics.gauge("mimoping_listener_probe_seconds", "How long the last probe of this process's own listener took",
                "probe", series(t -> t.last == null ? Double.NaN : t.last.nanos() / 1e9));
        metrics.counter("mimoping_listener_probe_failures_total", "Probes of this process's own listener not answered",
                "probe", series(t -> t.failures.get()));
    }

    private SequencedMap<String, DoubleSupplier> series(ToDoubleFunction<Tracked> value) {
        SequencedMap<String, DoubleSupplier> series = new LinkedHashMap<>();
        for (Tracked tracked : probes) {
            series.put(tracked.probe.name(), () -> value.applyAsDouble(tracked));
        }
        return series;
    }

    /**
     * Starts probing the listener bound to {@code host:port}; the first round runs at once.
     *
     * @throws IllegalArgumentException if {@code host} does not resolve
     */
    public ListenerProbes start(String host, int port) {
        InetAddress bound;
        try {
            bound = InetAddress.getByName(host);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot resolve " + host + ": " + e.getMessage(), e);
        }
        InetAddress probed = bound.isAnyLocalAddress() ? loopback(bound instanceof Inet6Address) : bound;
        target = new InetSocketAddress(probed, port);
        String literal = probed.getHostAddress();
        address = (literal.contains(":") ? "[" + literal + "]" : literal) + ":" + port;
        if (probes.stream().anyMatch(t -> t.probe instanceof Probe.Grpc)) {
            grpcLoop = new NioEventLoopGroup(1, Thread.ofPlatform().daemon().name("mimoping-listener-probes-grpc").factory());
        }
        thread.start();
        return this;
    }

    private static InetAddress loopback(boolean v6) {
        try {
            return InetAddress.getByAddress(v6 ? new byte[]{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
                    : new byte[]{127, 0, 0, 1});
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a connection from {@code clientSide} is one of this prober's, open now. */
    public boolean isOwn(SocketAddress clientSide) {
        return own.contains(clientSide);
    }

    /**
     * One check per probe, named as the probe: UP until it has failed {@value #FAILURES} times in a row; the
     * detail says what it does, where, and its last result (with how long it took).
     */
    public List<Health.Check> checks() {
        List<Health.Check> checks = new ArrayList<>(probes.size());
        for (Tracked tracked : probes) {
            Outcome last = tracked.last;
            String what = tracked.probe.what() + " on " + address;
            if (last == null) {
                checks.add(new Health.Check(tracked.probe.name(), true, what + ": not probed yet"));
            } else if (last.ok()) {
                checks.add(new Health.Check(tracked.probe.name(), true, what + " answered in " + millis(last.nanos())));
            } else if (last.inARow() < FAILURES) {
                checks.add(new Health.Check(tracked.probe.name(), true, what + " failed " + last.inARow()
                        + " time(s) in a row (DOWN at " + FAILURES + "): " + last.reason()));
            } else {
                checks.add(new Health.Check(tracked.probe.name(), false, what + " failing since " + last.failingSince()
                        + " (" + FAILURES + "+ tries in a row): " + last.reason()));
            }
        }
        return checks;
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    private void run() {
        while (!closed && !Thread.currentThread().isInterrupted()) {
            long round = System.nanoTime();
            for (Tracked tracked : probes) {
                if (closed) {
                    return;
                }
                record(tracked);
            }
            // a round slower than the period (timeouts) is followed at once by the next, one probe at a time
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PERIOD_MS) - (System.nanoTime() - round));
        }
    }

    private void record(Tracked tracked) {
        long start = System.nanoTime();
        String reason = null;
        try {
            switch (tracked.probe) {
                case Probe.Http http -> http(http.path());
                case Probe.WebSocket ws -> webSocket(ws.path());
                case Probe.Grpc call -> grpc(call);
            }
        } catch (IOException | RuntimeException e) {
            reason = reason(e);
        } finally {
            own.clear(); // one probe at a time: every address in it was this probe's
        }
        long nanos = System.nanoTime() - start;
        if (closed) {
            return; // failures while closing are ours
        }
        Outcome before = tracked.last;
        if (reason == null) {
            tracked.last = new Outcome(true, nanos, null, 0, null);
            return;
        }
        tracked.failures.incrementAndGet();
        boolean continued = before != null && !before.ok();
        tracked.last = new Outcome(false, nanos, reason, continued ? before.inARow() + 1 : 1,
                continued ? before.failingSince() : Instant.now().truncatedTo(ChronoUnit.MILLIS));
    }

    private static String reason(Exception e) {
        if (e instanceof StatusRuntimeException status) {
            io.grpc.Status.Code code = status.getStatus().getCode();
            if (code == io.grpc.Status.Code.DEADLINE_EXCEEDED) { // its description lists the channel's insides
                return code + ": no answer within " + TIMEOUT_MS + " ms";
            }
            Throwable cause = status.getCause();
            return code + (status.getStatus().getDescription() == null ? "" : ": " + status.getStatus().getDescription())
                    + (cause == null ? "" : " (" + reason(cause) + ")");
        }
        return reason((Throwable) e);
    }

    private static String reason(Throwable e) {
        return e.getMessage() == null || e.getMessage().isEmpty() ? e.getClass().getSimpleName() : e.getMessage();
    }

    private void http(String path) throws IOException {
        try (Connection connection = connect()) {
            connection.send("GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nConnection: close\r\n\r\n");
            List<String> head = connection.head();
            int status = status(head);
            if (status != 200 && status != 503) {
                throw new ProtocolException("answered " + head.getFirst());
            }
            // read the whole answer before closing, or the server might fail to write its end (Helidon keeps
            // the connection open a while even after "Connection: close")
            String length = header(head, "content-length");
            if (length == null) {
                connection.drain();
            } else {
                connection.skip(length);
            }
        }
    }

    private void webSocket(String path) throws IOException {
        byte[] nonce = new byte[16];
        random.nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        try (Connection connection = connect()) {
            connection.send("GET " + path + " HTTP/1.1\r\nHost: " + address + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
            List<String> head = connection.head();
            if (status(head) != 101) {
                throw new ProtocolException("upgrade answered " + head.getFirst());
            }
            String accept = header(head, "sec-websocket-accept");
            if (!acceptKey(key).equals(accept)) {
                throw new ProtocolException("upgrade answered with Sec-WebSocket-Accept " + accept + ", not "
                        + acceptKey(key));
            }
            // a masked close frame with status 1000 (clients must mask)
            byte[] mask = new byte[4];
            random.nextBytes(mask);
            connection.send(new byte[]{(byte) (0x80 | WS_CLOSE), (byte) (0x80 | 2), mask[0], mask[1], mask[2], mask[3],
                    (byte) ((WS_NORMAL_CLOSURE >> 8) ^ mask[0]), (byte) ((WS_NORMAL_CLOSURE & 0xff) ^ mask[1])});
            connection.awaitClose();
            connection.drain();
        }
    }

    /**
     * A channel of its own for each call: a connection kept open would not notice a listener that stopped
     * accepting, and an idle channel keeps its old connection a few seconds before it closes it.
     */
    private void grpc(Probe.Grpc probe) {
        ManagedChannel channel = NettyChannelBuilder.forAddress(target).usePlaintext()
                .eventLoopGroup(grpcLoop).channelFactory(this::ownGrpcSocket).directExecutor().build();
        try {
            probe.call().accept(ClientInterceptors.intercept(channel, new ClientInterceptor() {
                @Override
                public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                    return next.newCall(method, options.withDeadlineAfter(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                }
            }));
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A socket for a gRPC probe's channel, bound first so that its address is known as this prober's own. */
    private NioSocketChannel ownGrpcSocket() {
        try {
            SocketChannel socket = SocketChannel.open();
            try {
                socket.bind(new InetSocketAddress(target.getAddress(), 0));
                own.add(socket.getLocalAddress());
                return new NioSocketChannel(socket);
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a socket for the gRPC probe", e);
        }
    }

    private Connection connect() throws IOException {
        Socket socket = new Socket();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try {
            socket.bind(new InetSocketAddress(target.getAddress(), 0));
            own.add(socket.getLocalSocketAddress());
            socket.connect(target, TIMEOUT_MS);
            return new Connection(socket, deadline);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private static int status(List<String> head) throws ProtocolException {
        String[] parts = head.getFirst().split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new ProtocolException("not an HTTP answer: " + head.getFirst());
        }
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new ProtocolException("not an HTTP answer: " + head.getFirst());
        }
    }

    private static String header(List<String> head, String name) {
        for (String line : head.subList(1, head.size())) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    private static String acceptKey(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(key.getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1.digest(WS_GUID));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-1", e);
        }
    }

    /** One probe's connection: every read waits at most until the exchange's deadline. */
    private static final class Connection implements AutoCloseable {

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Connection(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.in = new BufferedInputStream(new FilterInputStream(socket.getInputStream()) {
                @Override
                public int read(byte[] bytes, int offset, int length) throws IOException {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        throw new SocketTimeoutException("no answer within " + TIMEOUT_MS + " ms");
                    }
                    socket.setSoTimeout((int) left);
                    return super.read(bytes, offset, length);
                }
            });
        }

        void send(String text) throws IOException {
            send(text.getBytes(StandardCharsets.US_ASCII));
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** The response's status line and header lines, read up to the blank line. */
        List<String> head() throws IOException {
            List<String> lines = new ArrayList<>();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int read = 0;
            while (true) {
                int b = in.read();
                if (b < 0) {
                    throw new ProtocolException(read == 0 ? "connection closed without an answer"
                            : "connection closed in the middle of the answer");
                }
                if (++read > MAX_RESPONSE) {
                    throw new ProtocolException("answer head longer than " + MAX_RESPONSE + " bytes");
                }
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                String text = line.toString(StandardCharsets.ISO_8859_1).stripTrailing();
                line.reset();
                if (text.isEmpty()) {
                    if (lines.isEmpty()) {
                        throw new ProtocolException("an empty answer");
                    }
                    return lines;
                }
                lines.add(text);
            }
        }

        /** Reads WebSocket frames up to the server's close frame. */
        void awaitClose() throws IOException {
            long read = 0;
            while (true) {
                int first = next();
                int second = next();
                long length = second & 0x7f;
                if (length == 126) {
                    length = (long) next() << 8 | next();
                } else if (length == 127) {
                    length = 0;
                    for (int i = 0; i < 8; i++) {
                        length = length << 8 | next();
                    }
                }
                read += length;
                if (read > MAX_RESPONSE) {
                    throw new ProtocolException("more than " + MAX_RESPONSE + " bytes before the close frame");
                }
                in.skipNBytes(length + ((second & 0x80) != 0 ? 4 : 0));
                if ((first & 0x0f) == WS_CLOSE) {
                    return;
                }
            }
        }

        private int next() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new ProtocolException("connection closed before the close frame");
            }
            return b;
        }

        /** Reads a body of {@code length} bytes (a {@code Content-Length}). */
        void skip(String length) throws IOException {
            long bytes;
            try {
                bytes = Long.parseLong(length);
            } catch (NumberFormatException e) {
                throw new ProtocolException("answered with Content-Length " + length);
            }
            if (bytes < 0 || bytes > MAX_RESPONSE) {
                throw new ProtocolException("answered with Content-Length " + length);
            }
            in.skipNBytes(bytes);
        }

        /** Reads what is left up to the end of the stream, so that the server finishes its answer before we close. */
        void drain() throws IOException {
            long read = 0;
            byte[] buffer = new byte[4096];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                read += n;
                if (read > MAX_RESPONSE) {
                    throw new ProtocolException("an answer longer than " + MAX_RESPONSE + " bytes");
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Stops the rounds (a probe in flight ends within its timeout) and the gRPC probes' I/O thread. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        if (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join(Duration.ofMillis(TIMEOUT_MS + 500));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (grpcLoop != null) {
            grpcLoop.shutdownGracefully(0, TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
    }
}
