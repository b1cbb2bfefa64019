package io.mimoping.agent.icmp;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One non-blocking ICMP socket for one address family, shared by every target of that family.
 * Owned by one thread: none of its methods but {@link #close()} may run concurrently.
 *
 * <p>A raw socket (needs CAP_NET_RAW) lets mimoping choose the identifier and see every ICMP message,
 * so it filters them in the kernel (ICMP_FILTER) and in {@code IcmpEcho} matching. A datagram ("ping")
 * socket (allowed by {@code net.ipv4.ping_group_range}) gets its identifier from the kernel, which only
 * delivers replies carrying it.
 */
public final class IcmpSocket implements AutoCloseable {

    /** How the socket talks ICMP. */
    public enum Mode {
        /** SOCK_RAW: needs CAP_NET_RAW. */
        RAW,
        /** SOCK_DGRAM with IPPROTO_ICMP(V6): needs the group in net.ipv4.ping_group_range. */
        DATAGRAM
    }

    private static final int MAX_PACKET = 65_536;
    private static final int CONTROL = 512;
    private static final int SOCKADDR = 28;
    private static final int MSGHDR = 56;
    private static final int IOVEC = 16;

    private final int fd;
    private final IcmpFamily family;
    private final Mode mode;
    /** -1 for a raw socket; for a datagram socket its local port once bound, 0 before. */
    private int identifier;
    /** msghdr, iovec, sockaddr and control buffer for recvmsg; the packet buffer; a sockaddr for sendto. */
    private final Memory header = new Memory(MSGHDR + IOVEC + SOCKADDR + CONTROL);
    private final ByteBuffer headerView = header.getByteBuffer(0, header.size()).order(ByteOrder.nativeOrder());
    private final ControlMessages messages = new ControlMessages(headerView);
    private final Memory data = new Memory(MAX_PACKET);
    private final ByteBuffer dataView = data.getByteBuffer(0, MAX_PACKET).order(ByteOrder.BIG_ENDIAN);
    private final Memory destination = new Memory(SOCKADDR);
    private final Memory scratch = new Memory(64);
    private boolean closed;

    private IcmpSocket(int fd, IcmpFamily family, Mode mode) {
        this.fd = fd;
        this.family = family;
        this.mode = mode;
        Pointer iov = header.share(MSGHDR);
        iov.setPointer(0, data);
        iov.setLong(8, MAX_PACKET);
        header.setPointer(0, header.share(MSGHDR + IOVEC));
        header.setPointer(16, iov);
        header.setLong(24, 1);
        header.setPointer(32, header.share(MSGHDR + IOVEC + SOCKADDR));
        try {
            enable(LibC.SOL_SOCKET, LibC.SO_TIMESTAMPNS, 1);
            if (family == IcmpFamily.V6) {
                enable(LibC.IPPROTO_IPV6, LibC.IPV6_RECVHOPLIMIT, 1);
            } else if (mode == Mode.DATAGRAM) {
                enable(LibC.IPPROTO_IP, LibC.IP_RECVTTL, 1);
            }
            this.identifier = mode == Mode.DATAGRAM ? 0 : -1;
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    /** Opens a raw socket if permitted, else a datagram socket. */
    public static IcmpSocket open(IcmpFamily family) {
        try {
            return open(family, Mode.RAW);
        } catch (IcmpPermissionException raw) {
            try {
                return open(family, Mode.DATAGRAM);
            } catch (IcmpPermissionException datagram) {
                throw new IcmpPermissionException("no permission to send " + family.label() + " ICMP: raw socket: "
                        + raw.getMessage() + "; datagram socket: " + datagram.getMessage()
                        + ". Run as root, grant CAP_NET_RAW (setcap cap_net_raw+ep on the java binary, or"
                        + " AmbientCapabilities=CAP_NET_RAW), or allow this group in net.ipv4.ping_group_range",
                        datagram.errno());
            }
        }
    }

    /** Opens a socket of exactly this mode. */
    public static IcmpSocket open(IcmpFamily family, Mode mode) {
        int type = (mode == Mode.RAW ? LibC.SOCK_RAW : LibC.SOCK_DGRAM) | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC;
        int fd = LibC.socket(family.addressFamily, type, family.protocol);
        if (fd < 0) {
            int errno = Errno.last();
            String what = family.label() + " " + mode.name().toLowerCase() + " ICMP socket";
            if (Errno.isPermission(errno)) {
                throw new IcmpPermissionException(what + ": " + Errno.describe(errno), errno);
            }
            throw Errno.failure("socket(" + what + ")", errno);
        }
        return new IcmpSocket(fd, family, mode);
    }

    public IcmpFamily family() {
        return family;
    }

    public Mode mode() {
        return mode;
    }

    /**
     * The identifier the kernel puts in this datagram socket's echo requests, or -1 for a raw socket,
     * whose sender chooses it. A datagram socket not yet bound is bound to the wildcard address here,
     * so {@link #bind(InetAddress)} must come first if at all.
     */
    public int identifier() {
        if (identifier == 0) {
            int port = localPort();
            if (port == 0) {
                bindAny();
                port = localPort();
            }
            identifier = port;
        }
        return identifier;
    }

    /** Lets only this ICMP type reach the socket (raw sockets; datagram sockets get only their replies). */
    public void acceptOnly(int icmpType) {
        if (mode != Mode.RAW) {
            return;
        }
        if (family == IcmpFamily.V4) {
            enable(LibC.SOL_RAW, LibC.ICMP_FILTER, ~(1 << icmpType));
        } else {
            for (int i = 0; i < 8; i++) {
                scratch.setInt(i * 4L, -1);
            }
            scratch.setInt((icmpType >> 5) * 4L, ~(1 << (icmpType & 31)));
            check(LibC.setsockopt(fd, LibC.IPPROTO_ICMPV6, LibC.ICMP6_FILTER, scratch, 32), "setsockopt(ICMP6_FILTER)");
        }
    }

    /**
     * Attaches a classic BPF program that lets through only echo replies carrying this identifier, so the
     * kernel drops every other ICMP message (other pingers' replies, our own echo requests on loopback)
     * before it is queued. Raw sockets only: a datagram socket gets only its own replies anyway.
     */
    public void acceptEchoRepliesWith(int identifier) {
        if (mode != Mode.RAW) {
            return;
        }
        attach(family == IcmpFamily.V4 ? Bpf.echoRepliesV4(identifier) : Bpf.echoRepliesV6(identifier));
    }

    /**
     * Makes the socket read nothing: for a socket that only sends. On a raw socket the ICMP filter
     * blocks every type first, so the kernel does not even clone incoming ICMP for it; a BPF program
     * that drops everything covers the rest.
     */
    public void receiveNothing() {
        if (mode == Mode.RAW) {
            if (family == IcmpFamily.V4) {
                enable(LibC.SOL_RAW, LibC.ICMP_FILTER, -1);
            } else {
                for (int i = 0; i < 8; i++) {
                    scratch.setInt(i * 4L, -1);
                }
                check(LibC.setsockopt(fd, LibC.IPPROTO_ICMPV6, LibC.ICMP6_FILTER, scratch, 32),
                        "setsockopt(ICMP6_FILTER)");
            }
        }
        attach(Bpf.nothing());
    }

    private void attach(long[] program) {
        try (Memory code = new Memory(8L * program.length); Memory fprog = new Memory(16)) {
            for (int i = 0; i < program.length; i++) {
                code.setLong(8L * i, program[i]);
            }
            fprog.clear();
            fprog.setShort(0, (short) program.length);
            fprog.setPointer(8, code);
            check(LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ATTACH_FILTER, fprog, 16), "setsockopt(SO_ATTACH_FILTER)");
        }
    }

    /**
     * Asks the kernel for a software transmit timestamp of every message sent from now on, queued on the
     * socket's error queue with a counter (OPT_ID) and without the packet (OPT_TSONLY); read them with
     * {@link TxTimestamps}. With {@code alsoReceive} the kernel also stamps received messages this way.
     *
     * @throws NativeException if the kernel does not offer it
     */
    public void timestampTransmits(boolean alsoReceive) {
        int flags = LibC.SOF_TIMESTAMPING_TX_SOFTWARE | LibC.SOF_TIMESTAMPING_SOFTWARE
                | LibC.SOF_TIMESTAMPING_OPT_ID | LibC.SOF_TIMESTAMPING_OPT_TSONLY
                | (alsoReceive ? LibC.SOF_TIMESTAMPING_RX_SOFTWARE : 0);
        enable(LibC.SOL_SOCKET, LibC.SO_TIMESTAMPING, flags);
    }

    /** Makes the kernel report, with each received message, how many it dropped for a full buffer (SO_RXQ_OVFL). */
    public void countDrops() {
        enable(LibC.SOL_SOCKET, LibC.SO_RXQ_OVFL, 1);
    }

    /**
     * Binds the socket to a local address: it then sends from it and receives only what is sent to it.
     * A datagram socket can be bound once, before its {@link #identifier()} is read or it sends.
     */
    public void bind(InetAddress local) {
        int length = writeSockaddr(scratch, local);
        check(LibC.bind(fd, scratch, length), "bind(" + local.getHostAddress() + ")");
    }

    /** Asks for a receive buffer of this many bytes: beyond the system limit when privileged, else up to it. */
    public void receiveBuffer(int bytes) {
        scratch.setInt(0, bytes);
        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, scratch, 4) != 0) {
            enable(LibC.SOL_SOCKET, LibC.SO_RCVBUF, bytes);
        }
    }

    /**
     * Sends one ICMP message (from the buffer's position to its limit) to an address.
     *
     * @return false if the socket's send buffer is full: try again a little later
     * @throws NativeException when the kernel refuses (no route, unreachable network, ...)
     */
    public boolean send(InetAddress to, ByteBuffer message) {
        int length = message.remaining();
        Pointer payload;
        if (message.isDirect()) {
            payload = com.sun.jna.Native.getDirectBufferPointer(message).share(message.position());
        } else {
            data.write(0, message.array(), message.arrayOffset() + message.position(), length);
            payload = data;
        }
        int addressLength = writeSockaddr(destination, to);
        long sent = LibC.sendto(fd, payload, length, 0, destination, addressLength);
        if (sent < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN) {
                return false;
            }
            throw Errno.failure("sendto(" + to.getHostAddress() + ")", errno);
        }
        return true;
    }

    /**
     * Receives one queued message without waiting.
     *
     * @return false when nothing is queued
     */
    public boolean receive(ReceivedPacket into) {
        header.setInt(8, SOCKADDR);
        header.setLong(40, CONTROL);
        header.setInt(48, 0);
        long n = LibC.recvmsg(fd, header, LibC.MSG_DONTWAIT);
        if (n < 0) {
            int errno = Errno.last();
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return false;
            }
            throw Errno.failure("recvmsg", errno);
        }
        readSource(into);
        into.ttl = -1;
        into.kernelTimeNanos = 0;
        readControl(into);
        into.message = dataView;
        if (family == IcmpFamily.V4 && mode == Mode.RAW) {
            int ihl = (dataView.get(0) & 0x0f) * 4;
            into.ttl = dataView.get(8) & 0xff;
            into.offset = ihl;
            into.length = (int) n - ihl;
        } else {
            into.offset = 0;
            into.length = (int) n;
        }
        return true;
    }

    int fd() {
        return fd;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
        }
    }

    private void readSource(ReceivedPacket into) {
        Pointer name = header.share(MSGHDR + IOVEC);
        if (family == IcmpFamily.V4) {
            name.read(4, into.source, 0, 4);
            into.sourceLength = 4;
        } else {
            name.read(8, into.source, 0, 16);
            into.sourceLength = 16;
        }
    }

    private void readControl(ReceivedPacket into) {
        for (ControlMessages m = messages.of(MSGHDR + IOVEC + SOCKADDR, header.getLong(40)); m.next(); ) {
            int level = m.level();
            int type = m.type();
            if (level == LibC.SOL_SOCKET && type == LibC.SO_TIMESTAMPNS) {
                into.kernelTimeNanos = m.timespecNanos();
            } else if ((level == LibC.IPPROTO_IP && type == LibC.IP_TTL)
                    || (level == LibC.IPPROTO_IPV6 && type == LibC.IPV6_HOPLIMIT)) {
                into.ttl = headerView.getInt(m.data());
            }
        }
    }

    private void bindAny() {
        scratch.clear(SOCKADDR);
        scratch.setShort(0, (short) family.addressFamily);
        check(LibC.bind(fd, scratch, family == IcmpFamily.V4 ? 16 : SOCKADDR), "bind(ICMP datagram socket)");
    }

    /** The socket's local port: for a ping socket its echo identifier, 0 while unbound. */
    private int localPort() {
        scratch.setInt(32, SOCKADDR);
        check(LibC.getsockname(fd, scratch, scratch.share(32)), "getsockname");
        return Short.toUnsignedInt(Short.reverseBytes(scratch.getShort(2)));
    }

    private static int writeSockaddr(Memory at, InetAddress address) {
        byte[] bytes = address.getAddress();
        at.clear(SOCKADDR);
        if (bytes.length == 4) {
            at.setShort(0, (short) LibC.AF_INET);
            at.write(4, bytes, 0, 4);
            return 16;
        }
        at.setShort(0, (short) LibC.AF_INET6);
        at.write(8, bytes, 0, 16);
        if (address instanceof Inet6Address v6) {
            at.setInt(24, v6.getScopeId());
        }
        return SOCKADDR;
    }

    private void enable(int level, int option, int value) {
        scratch.setInt(0, value);
        check(LibC.setsockopt(fd, level, option, scratch, 4), "setsockopt(" + level + ", " + option + ")");
    }

    private static void check(int result, String call) {
        if (result != 0) {
            throw Errno.failure(call, Errno.last());
        }
    }
}
