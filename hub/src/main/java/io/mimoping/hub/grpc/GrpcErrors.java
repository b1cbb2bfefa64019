package io.mimoping.hub.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mimoping.bridge.control.ControlException;
import io.mimoping.hub.task.InvalidRequestException;

import java.util.NoSuchElementException;

/**
 * The one table from what the hub's services throw to the gRPC status a client gets, as
 * {@code http.ErrorResponses} is for HTTP. Messages that never reach a service (too large, malformed) get theirs
 * from {@link io.mimoping.agent.control.GrpcGuard}.
 */
final class GrpcErrors {

    private GrpcErrors() {
    }

    /** The status for a request that failed with {@code e}. */
    static StatusRuntimeException status(RuntimeException e) {
        Status status = switch (e) {
            // an agent in 'from' that can send no ICMP: the request is right, the agent cannot serve it
            case InvalidRequestException invalid -> (invalid.code().equals("unsupported") ? Status.FAILED_PRECONDITION
                    : Status.INVALID_ARGUMENT).withDescription(invalid.code()
                    + (invalid.field() == null ? "" : " (" + invalid.field() + ")") + ": " + invalid.getMessage());
            case NoSuchElementException unknown -> Status.NOT_FOUND.withDescription(unknown.getMessage());
            case IllegalStateException notNow -> Status.FAILED_PRECONDITION.withDescription(notNow.getMessage());
            case ControlException unanswered -> Status.UNAVAILABLE.withDescription(unanswered.getMessage());
            default -> Status.INTERNAL.withDescription(e.toString());
        };
        return status.asRuntimeException();
    }

    /** A required field left empty, named as the HTTP API names it. */
    static StatusRuntimeException missing(String field, String what) {
        return Status.INVALID_ARGUMENT.withDescription("missing_field (" + field + "): " + what).asRuntimeException();
    }
}
