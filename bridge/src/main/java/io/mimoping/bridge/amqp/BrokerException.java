package io.mimoping.bridge.amqp;

import java.io.Serial;

/** RabbitMQ could not be reached or refused an operation. */
public final class BrokerException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public BrokerException(String message, Throwable cause) {
        super(message, cause);
    }
}
