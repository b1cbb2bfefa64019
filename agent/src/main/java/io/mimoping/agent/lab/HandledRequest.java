package io.mimoping.agent.lab;

import java.time.Instant;
import java.util.List;

/**
 * An echo request the responder received and what it did about it.
 *
 * @param seq       the request's 16-bit sequence number
 * @param arrival   when the request reached the target (the kernel's receive timestamp)
 * @param responses the replies it scheduled, in order; empty when it dropped the request
 */
public record HandledRequest(int seq, Instant arrival, List<Behaviour.Response> responses) {

    public HandledRequest {
        responses = List.copyOf(responses);
    }

    /** Whether the request got no reply at all. */
    public boolean dropped() {
        return responses.isEmpty();
    }
}
