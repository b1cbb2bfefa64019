package io.mimoping.agent.icmp;

/** Moves the calling thread into a named network namespace (one made by {@code ip netns add}). */
public final class NetworkNamespace {

    private NetworkNamespace() {
    }

    /**
     * Enters {@code /var/run/netns/NAME} on the current thread only: sockets it opens from then on
     * belong to that namespace, and stay there when other threads use them. Call it on a dedicated
     * platform thread (a virtual thread may move between carriers).
     */
    public static void enterOnCurrentThread(String name) {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("a virtual thread cannot stay in a network namespace");
        }
        String path = "/var/run/netns/" + name;
        int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw Errno.failure("open(" + path + ")", Errno.last());
        }
        try {
            if (LibC.setns(fd, LibC.CLONE_NEWNET) != 0) {
                throw Errno.failure("setns(" + path + ")", Errno.last());
            }
        } finally {
            LibC.close(fd);
        }
    }
}
