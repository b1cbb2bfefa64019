package io.mimoping.bridge.probe;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * Something went wrong for a target, for one of its probes, or for a pinging side as a whole.
 *
 * @param code    what kind of error
 * @param message what happened, for people
 * @param target  target as the user wrote it, or {@code null} when the error concerns no single target
 * @param seq     the probe the error is about, when it is about one
 */
public record ProbeError(ErrorCode code, String message, String target, OptionalLong seq) implements ProbeEvent {

    public ProbeError {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(seq, "seq");
    }

    /** An error about a whole target (it gets no probes, or no more of them). */
    public static ProbeError ofTarget(ErrorCode code, String target, String message) {
        return new ProbeError(code, message, target, OptionalLong.empty());
    }

    /** An error about one probe of a target. */
    public static ProbeError ofProbe(ErrorCode code, String target, long seq, String message) {
        return new ProbeError(code, message, target, OptionalLong.of(seq));
    }
}
