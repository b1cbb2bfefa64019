package io.mimoping.agent.engine;

/**
 * Where an engine's RTTs come from for one address family: a capability to show.
 *
 * @param kernelTransmit whether the send time is the kernel's transmit timestamp (SO_TIMESTAMPING); if
 *                       not, it is read from the wall clock just before the send call of each batch
 * @param kernelReceive  whether the receive time is the kernel's (SO_TIMESTAMPNS / SO_TIMESTAMPING)
 * @param detail         in words, with the reason for any fallback
 */
public record Timestamping(boolean kernelTransmit, boolean kernelReceive, String detail) {
}
