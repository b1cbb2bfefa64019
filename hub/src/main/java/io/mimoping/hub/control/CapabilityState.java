package io.mimoping.hub.control;

import io.mimoping.bridge.control.AgentCapabilities;

/** What the hub knows of an agent's capabilities. */
public sealed interface CapabilityState {

    /** Its control channel is being asked (at registration, with retries). */
    record Pending(String controlAddress) implements CapabilityState {
    }

    /** Its control channel answered. */
    record Detected(AgentCapabilities capabilities) implements CapabilityState {
    }

    /** Nothing to know: it announced no control channel, or its channel did not answer; {@code reason} says which. */
    record Unknown(String reason) implements CapabilityState {
    }

    /** In words, for people: why the capabilities are not shown; empty once they are. */
    default String reason() {
        return switch (this) {
            case Pending(String address) -> "asking its control channel at " + address;
            case Detected d -> "";
            case Unknown(String reason) -> reason;
        };
    }
}
