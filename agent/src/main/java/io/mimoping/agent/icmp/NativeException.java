package io.mimoping.agent.icmp;

import java.io.Serial;

/** A system call failed; the message names the call and the C library's text for errno. */
public class NativeException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final int errno;

    NativeException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno value of the failed call. */
    public int errno() {
        return errno;
    }
}
