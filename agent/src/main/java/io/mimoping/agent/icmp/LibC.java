package io.mimoping.agent.icmp;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The libc calls the engine needs, direct-mapped (JNA's fast path). Signatures only; errors are read
 * with {@link Native#getLastError()} by {@link Errno}, never thrown from here.
 */
final class LibC {

    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int IPPROTO_IP = 0;
    static final int IPPROTO_ICMP = 1;
    static final int IPPROTO_IPV6 = 41;
    static final int IPPROTO_ICMPV6 = 58;
    static final int SOL_SOCKET = 1;
    static final int SOL_RAW = 255;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_RCVBUFFORCE = 33;
    static final int SO_TIMESTAMPNS = 35;
    static final int SO_RXQ_OVFL = 40;
    static final int SO_ATTACH_FILTER = 26;
    static final int SO_TIMESTAMPING = 37;
    static final int SOF_TIMESTAMPING_TX_SOFTWARE = 1 << 1;
    static final int SOF_TIMESTAMPING_RX_SOFTWARE = 1 << 3;
    static final int SOF_TIMESTAMPING_SOFTWARE = 1 << 4;
    static final int SOF_TIMESTAMPING_OPT_ID = 1 << 7;
    static final int SOF_TIMESTAMPING_OPT_TSONLY = 1 << 11;
    static final int IP_RECVERR = 11;
    static final int IPV6_RECVERR = 25;
    static final int SO_EE_ORIGIN_TIMESTAMPING = 4;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_ERRQUEUE = 0x2000;
    static final int IP_TTL = 2;
    static final int IP_RECVTTL = 12;
    static final int ICMP_FILTER = 1;
    static final int ICMP6_FILTER = 1;
    static final int IPV6_RECVHOPLIMIT = 51;
    static final int IPV6_HOPLIMIT = 52;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;
    static final short POLLIN = 1;
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = 0x80000;
    static final int CLONE_NEWNET = 0x40000000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int SCHED_FIFO = 1;
    static final int CLOCK_REALTIME = 0;

    static {
        Native.register(Platform.C_LIBRARY_NAME);
    }

    private LibC() {
    }

    static native int socket(int domain, int type, int protocol);

    static native int setsockopt(int fd, int level, int name, Pointer value, int length);

    static native int bind(int fd, Pointer address, int length);

    static native int getsockname(int fd, Pointer address, Pointer length);

    static native long sendto(int fd, Pointer buffer, long length, int flags, Pointer address, int addressLength);

    static native long recvmsg(int fd, Pointer message, int flags);

    static native int sendmmsg(int fd, Pointer messages, int count, int flags);

    static native int recvmmsg(int fd, Pointer messages, int count, int flags, Pointer timeout);

    static native int ppoll(Pointer fds, long count, Pointer timeout, Pointer sigmask);

    static native int eventfd(int initial, int flags);

    static native long read(int fd, Pointer buffer, long length);

    static native long write(int fd, Pointer buffer, long length);

    static native int open(String path, int flags);

    static native int close(int fd);

    static native int setns(int fd, int type);

    static native int sched_setscheduler(int pid, int policy, Pointer param);

    static native Pointer strerror(int errno);

    static native int clock_gettime(int clock, Pointer timespec);
}
