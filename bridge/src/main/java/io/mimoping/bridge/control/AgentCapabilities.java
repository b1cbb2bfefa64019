package io.mimoping.bridge.control;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a pinging side can do, as detected on its host: the answer of {@code AgentControl/GetCapabilities}.
 *
 * @param agent      the agent's name
 * @param version    the mimoping version it runs
 * @param hostName   its host's name
 * @param kernel     operating system name, release and architecture
 * @param labels     labels from its configuration
 * @param startedAt  when its process started
 * @param uptime     how long it had run when detected
 * @param ipv4       ICMP over IPv4
 * @param ipv6       ICMPv6 over IPv6
 * @param limits     what its engine is built and measured for
 * @param detectedAt when this was detected
 */
public record AgentCapabilities(String agent, String version, String hostName, String kernel,
                                Map<String, String> labels, Instant startedAt, Duration uptime,
                                Icmp ipv4, Icmp ipv6, Limits limits, Instant detectedAt) {

    public AgentCapabilities {
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(kernel, "kernel");
        labels = Map.copyOf(labels);
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(uptime, "uptime");
        Objects.requireNonNull(ipv4, "ipv4");
        Objects.requireNonNull(ipv6, "ipv6");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(detectedAt, "detectedAt");
    }

    /** Whether this side can send ICMP of at least one family. */
    public boolean canPing() {
        return ipv4.engineSocket() != SocketKind.NONE || ipv6.engineSocket() != SocketKind.NONE;
    }

    /** The kind of socket a probe engine sends with. */
    public enum SocketKind {
        /** It cannot send this family. */
        NONE,
        /** SOCK_RAW (CAP_NET_RAW). */
        RAW,
        /** SOCK_DGRAM "ping" socket (net.ipv4.ping_group_range). */
        DATAGRAM
    }

    /**
     * The outcome of opening one kind of ICMP socket.
     *
     * @param available whether it opened
     * @param error     the kernel's reason when it did not, else empty
     */
    public record SocketCheck(boolean available, String error) {

        public static final SocketCheck OPENED = new SocketCheck(true, "");

        public SocketCheck {
            Objects.requireNonNull(error, "error");
        }

        public static SocketCheck refused(String error) {
            return new SocketCheck(false, error);
        }
    }

    /**
     * Kernel timestamps of the engine's sockets for one family.
     *
     * @param kernelTransmit send times are the kernel's transmit timestamps
     * @param kernelReceive  receive times are the kernel's
     * @param detail         in words, with the reason for any fallback
     */
    public record Timestamps(boolean kernelTransmit, boolean kernelReceive, String detail) {

        public Timestamps {
            Objects.requireNonNull(detail, "detail");
        }
    }

    /**
     * Whether and how one address family can be pinged.
     *
     * @param raw          opening a raw socket
     * @param datagram     opening a datagram socket
     * @param engineSocket what the engine sends with
     * @param unavailable  why the engine cannot send this family; empty when it can
     * @param timestamps   where RTTs come from, when the engine can send this family
     */
    public record Icmp(SocketCheck raw, SocketCheck datagram, SocketKind engineSocket, Optional<String> unavailable,
                       Optional<Timestamps> timestamps) {

        public Icmp {
            Objects.requireNonNull(raw, "raw");
            Objects.requireNonNull(datagram, "datagram");
            Objects.requireNonNull(engineSocket, "engineSocket");
            Objects.requireNonNull(unavailable, "unavailable");
            Objects.requireNonNull(timestamps, "timestamps");
        }
    }

    /**
     * What a probe engine is built and measured for.
     *
     * @param maxRate    probes per second over all targets
     * @param maxTargets targets in flight at once
     * @param shards     engine loops probing in parallel
     */
    public record Limits(long maxRate, int maxTargets, int shards) {
    }
}
