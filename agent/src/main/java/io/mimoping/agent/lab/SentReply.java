package io.mimoping.agent.lab;

import java.time.Instant;

/**
 * A reply an emulated target sent.
 *
 * @param seq    the 16-bit sequence number of the request it answers
 * @param sentAt when it left the target (the kernel's transmit timestamp)
 */
public record SentReply(int seq, Instant sentAt) {
}
