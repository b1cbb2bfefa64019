package io.mimoping.agent.icmp;

import com.sun.jna.Memory;

import java.util.List;

/**
 * Waits until one of a set of ICMP sockets has something to read, a deadline passes, or another thread
 * calls {@link #wakeup()}. Owned by one thread, except {@link #wakeup()}, which any thread may call.
 */
public final class Poller implements AutoCloseable {

    private final int eventFd;
    private final int count;
    private final Memory fds;
    private final Memory timeout = new Memory(16);
    private final Memory counter = new Memory(8);
    private final Memory one = new Memory(8);
    private volatile boolean closed;

    /** Watches these sockets (which stay owned by the caller). */
    public Poller(List<IcmpSocket> sockets) {
        eventFd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (eventFd < 0) {
            throw Errno.failure("eventfd", Errno.last());
        }
        count = sockets.size() + 1;
        fds = new Memory(8L * count);
        fds.setInt(0, eventFd);
        fds.setShort(4, LibC.POLLIN);
        for (int i = 0; i < sockets.size(); i++) {
            fds.setInt(8L * (i + 1), sockets.get(i).fd());
            fds.setShort(8L * (i + 1) + 4, LibC.POLLIN);
        }
        one.setLong(0, 1);
    }

    /**
     * Waits up to this many nanoseconds (0: just look) for a socket to become readable or a wakeup.
     *
     * @return true if a socket is readable
     */
    public boolean await(long nanos) {
        long wait = Math.max(0, nanos);
        timeout.setLong(0, wait / 1_000_000_000L);
        timeout.setLong(8, wait % 1_000_000_000L);
        for (int i = 0; i < count; i++) {
            fds.setShort(8L * i + 6, (short) 0);
        }
        int ready = LibC.ppoll(fds, count, timeout, null);
        if (ready < 0) {
            int errno = Errno.last();
            if (errno == Errno.EINTR) {
                return false;
            }
            throw Errno.failure("ppoll", errno);
        }
        if ((fds.getShort(6) & LibC.POLLIN) != 0) {
            LibC.read(eventFd, counter, 8);
        }
        for (int i = 1; i < count; i++) {
            if (fds.getShort(8L * i + 6) != 0) {
                return true;
            }
        }
        return false;
    }

    /** Ends the current or next {@link #await(long)} early. Safe from any thread. */
    public void wakeup() {
        if (!closed) {
            LibC.write(eventFd, one, 8);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.close(eventFd);
        }
    }
}
