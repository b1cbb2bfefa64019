package io.mimoping.agent.lab;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An echo request the responder received, what it planned to do about it, and what it actually did.
 *
 * @param seq     the request's 16-bit sequence number
 * @param arrival when the request reached the target (the kernel's receive timestamp)
 * @param answers the replies it scheduled, in order, each with when it actually left; empty when it dropped the
 *                request
 */
public record HandledRequest(int seq, Instant arrival, List<Answer> answers) {

    public HandledRequest {
        answers = List.copyOf(answers);
    }

    /**
     * One reply the responder scheduled.
     *
     * @param planned   what its {@link Behaviour} asked for
     * @param departure when it actually left the target: the kernel's transmit timestamp of its send, or the clock
     *                  right after the send returned when the kernel gave none; empty while it has not left yet.
     *                  A responder that the host stalls sends late, so this can be well after the planned time.
     */
    public record Answer(Behaviour.Response planned, Optional<Instant> departure) {
    }

    /** The replies it planned, in order. */
    public List<Behaviour.Response> responses() {
        return answers.stream().map(Answer::planned).toList();
    }

    /** Whether the request got no reply at all. */
    public boolean dropped() {
        return answers.isEmpty();
    }

    /** The delay this reply actually met at the target, from the request's arrival to its departure; empty if it has not left. */
    public Optional<Duration> applied(Answer answer) {
        return answer.departure().map(left -> Duration.between(arrival, left));
    }
}
