package io.mimoping.bridge.control;

import java.io.Serial;

/** An agent's control channel did not answer, or answered with an error; the message says which and why. */
public final class ControlException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public ControlException(String message, Throwable cause) {
        super(message, cause);
    }
}
