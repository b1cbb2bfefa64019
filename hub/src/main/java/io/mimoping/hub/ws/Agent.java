package io.mimoping.hub.ws;


import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * An agent registered with this hub, as it announced itself over {@code /ws}.
 *
 * @param name           unique among the live agents of a hub; {@link #NAME} pattern, never {@value #RESERVED}
 * @param version        the agent's version, as announced
 * @param labels         free-form labels, as announced
 * @param controlAddress {@code host:port} of the agent's gRPC control channel, or {@code null} if it serves none
 * @param remoteAddress  where its WebSocket connection comes from, {@code host:port} ({@code [v6]:port})
 * @param connectedSince when its registration was accepted
 */
public record Agent(String name, String version, Map<String, String> labels, String controlAddress,
                    String remoteAddress, Instant connectedSince) {

    public Agent {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        labels = Map.copyOf(labels);
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        Objects.requireNonNull(connectedSince, "connectedSince");
    }
}
