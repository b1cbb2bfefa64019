package io.mimoping.agent.icmp;

import com.sun.jna.Memory;

import java.nio.charset.StandardCharsets;

/**
 * A connectionless unix-domain datagram socket that sends to one address: what systemd's
 * {@code NOTIFY_SOCKET} is (the JDK's {@code DatagramChannel} has no unix-domain support). An address
 * starting with {@code @} is in the abstract namespace. Thread-safe: each send is one system call.
 */
public final class UnixDatagramSocket implements AutoCloseable {

    /** {@code sizeof(struct sockaddr_un)}: a short family and a 108-byte path. */
    private static final int SOCKADDR_UN = 110;
    private static final int PATH_MAX = 108;

    private final int fd;
    private final Memory address = new Memory(SOCKADDR_UN);
    private final int addressLength;
    private volatile boolean closed;

    private UnixDatagramSocket(int fd, byte[] path) {
        this.fd = fd;
        address.clear();
        address.setShort(0, (short) LibC.AF_UNIX);
        address.write(2, path, 0, path.length);
        // A path name ends with a NUL; an abstract name is exactly its bytes, the leading NUL included.
        this.addressLength = 2 + path.length + (path[0] == 0 ? 0 : 1);
    }

    /**
     * Opens a socket that sends to {@code target}: a file system path, or {@code @name} for the abstract namespace.
     *
     * @throws IllegalArgumentException if the address is empty or too long
     * @throws NativeException          if the socket cannot be created
     */
    public static UnixDatagramSocket open(String target) {
        if (target == null || target.isEmpty() || target.equals("@")) {
            throw new IllegalArgumentException("a unix socket address is needed, got '" + target + "'");
        }
        byte[] path = target.getBytes(StandardCharsets.UTF_8);
        if (path[0] == '@') {
            path[0] = 0;
        }
        if (path.length >= PATH_MAX) {
            throw new IllegalArgumentException("unix socket address longer than " + (PATH_MAX - 1) + " bytes: " + target);
        }
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Errno.failure("socket(AF_UNIX, SOCK_DGRAM)", Errno.last());
        }
        return new UnixDatagramSocket(fd, path);
    }

    /**
     * Sends one datagram.
     *
     * @throws NativeException if the kernel refuses it (no such socket, nobody bound to it, ...)
     */
    public void send(String text) {
        if (closed) {
            throw new IllegalStateException("the socket is closed");
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try (Memory buffer = new Memory(Math.max(1, bytes.length))) {
            buffer.write(0, bytes, 0, bytes.length);
            if (LibC.sendto(fd, buffer, bytes.length, LibC.MSG_NOSIGNAL, address, addressLength) < 0) {
                throw Errno.failure("sendto(" + target() + ")", Errno.last());
            }
        }
    }

    private String target() {
        byte[] path = address.getByteArray(2, addressLength - 2);
        return path[0] == 0 ? "@" + new String(path, 1, path.length - 1, StandardCharsets.UTF_8)
                : new String(path, 0, path.length - 1, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
        }
    }
}
