package io.mimoping.bridge.wire;

import java.io.Serial;

/** Bytes from the broker that are not a valid mimoping.v1 message. */
public final class WireException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    WireException(String message) {
        super(message);
    }

    WireException(String message, Throwable cause) {
        super(message, cause);
    }
}
