package io.mimoping.agent.icmp;

import com.sun.jna.Native;

/** errno values the engine reacts to, and the conversion of a failed call into an exception. */
final class Errno {

    static final int EPERM = 1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int ENOBUFS = 105;

    private Errno() {
    }

    /** errno of the last native call on this thread. */
    static int last() {
        return Native.getLastError();
    }

    /** The C library's text for an errno value, such as "Operation not permitted". */
    static String describe(int errno) {
        return LibC.strerror(errno).getString(0) + " (errno " + errno + ")";
    }

    /** An exception for a failed call, naming the call and the errno. */
    static NativeException failure(String call, int errno) {
        return new NativeException(call + ": " + describe(errno), errno);
    }

    static boolean isPermission(int errno) {
        return errno == EPERM || errno == EACCES;
    }
}
