package io.mimoping.hub.http;

import io.helidon.http.Status;

import java.io.Serial;

/**
 * A request the hub refuses before reading its fields (too large, not JSON), answered with a 4xx status.
 */
final class RequestException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final transient Status status;
    private final String code;
    private final String field;

    RequestException(Status status, String code, String field, String message) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    Status status() {
        return status;
    }

    String code() {
        return code;
    }

    /** The field at fault, such as {@code count} or {@code targets[3]}; {@code null} for the body as a whole. */
    String field() {
        return field;
    }
}
