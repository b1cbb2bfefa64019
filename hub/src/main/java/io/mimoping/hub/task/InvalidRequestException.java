package io.mimoping.hub.task;

import java.io.Serial;

/** A task request with a bad field: what is wrong, where, in words a user can act on. */
public final class InvalidRequestException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final String code;
    private final String field;

    InvalidRequestException(String code, String field, String message) {
        super(message);
        this.code = code;
        this.field = field;
    }

    /**
     * Machine-readable reason: invalid_json, invalid_type, missing_field, unknown_field, duplicate_field,
     * out_of_range, invalid_value, duplicate_value; unsupported (an agent in {@code from} can send no ICMP).
     */
    public String code() {
        return code;
    }

    /** The field at fault, such as {@code count} or {@code targets[3]}; {@code null} for the body as a whole. */
    public String field() {
        return field;
    }
}
