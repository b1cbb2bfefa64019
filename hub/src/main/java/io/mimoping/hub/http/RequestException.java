package io.mimoping.hub.http;

import io.helidon.http.Status;

import java.io.Serial;

/**
 * A request the hub refuses, answered with {@code {"error":{"code","field","message"}}} and a 4xx status.
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

    /** A 400 for a field with a bad value. */
    static RequestException badField(String code, String field, String message) {
        return new RequestException(Status.BAD_REQUEST_400, code, field, message);
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
