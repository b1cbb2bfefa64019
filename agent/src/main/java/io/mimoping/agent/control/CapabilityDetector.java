package io.mimoping.agent.control;

import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.engine.Timestamping;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.IcmpSocket;
import io.mimoping.agent.icmp.NativeException;
import io.mimoping.bridge.control.AgentCapabilities;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * Detects what this process can do, each time it is asked: it opens (and closes at once) a raw and a
 * datagram ICMP socket per address family, and reads how the engine sends and timestamps, its limits, the
 * host's name and kernel. Nothing is taken from configuration but the labels. Thread-safe.
 */
public final class CapabilityDetector {

    private static final Path HOST_NAME = Path.of("/proc/sys/kernel/hostname");

    private final String agent;
    private final String version;
    private final Map<String, String> labels;
    private final IcmpEngine engine;
    private final String kernel;
    private final Instant startedAt;
    private final Clock clock;

    /**
     * @param agent     the agent's name
     * @param version   the version it runs
     * @param labels    labels from its configuration
     * @param engine    its probe engine
     * @param kernel    operating system name, release and architecture
     * @param startedAt when the process started
     * @param clock     what "now" is
     */
    public CapabilityDetector(String agent, String version, Map<String, String> labels, IcmpEngine engine,
                              String kernel, Instant startedAt, Clock clock) {
        this.agent = Objects.requireNonNull(agent, "agent");
        this.version = Objects.requireNonNull(version, "version");
        this.labels = Map.copyOf(labels);
        this.engine = Objects.requireNonNull(engine, "engine");
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.startedAt = Objects.requireNonNull(startedAt, "startedAt");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Detects now. */
    public AgentCapabilities detect() {
        Instant now = clock.instant();
        return new AgentCapabilities(agent, version, hostName(), kernel, labels, startedAt,
                Duration.between(startedAt, now), icmp(IcmpFamily.V4), icmp(IcmpFamily.V6),
                new AgentCapabilities.Limits(engine.maxRate(), engine.maxTargets(), engine.shards()), now);
    }

    private AgentCapabilities.Icmp icmp(IcmpFamily family) {
        AgentCapabilities.SocketKind socket = engine.mode(family).map(mode -> switch (mode) {
            case RAW -> AgentCapabilities.SocketKind.RAW;
            case DATAGRAM -> AgentCapabilities.SocketKind.DATAGRAM;
        }).orElse(AgentCapabilities.SocketKind.NONE);
        return new AgentCapabilities.Icmp(open(family, IcmpSocket.Mode.RAW), open(family, IcmpSocket.Mode.DATAGRAM),
                socket, engine.unavailable(family), engine.timestamping(family).map(CapabilityDetector::timestamps));
    }

    private static AgentCapabilities.Timestamps timestamps(Timestamping t) {
        return new AgentCapabilities.Timestamps(t.kernelTransmit(), t.kernelReceive(), t.detail());
    }

    /** Opens a socket of this kind and closes it again: the kernel's answer, not an assumption. */
    private static AgentCapabilities.SocketCheck open(IcmpFamily family, IcmpSocket.Mode mode) {
        try (IcmpSocket ignored = IcmpSocket.open(family, mode)) {
            return AgentCapabilities.SocketCheck.OPENED;
        } catch (NativeException e) {
            return AgentCapabilities.SocketCheck.refused(e.getMessage());
        }
    }

    private static String hostName() {
        // procfs reports size 0: read it as a stream, not with Files.readString
        try (InputStream in = Files.newInputStream(HOST_NAME)) {
            String name = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException e) {
            // not Linux procfs: ask the resolver below
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
