package io.mimoping.bridge.control;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.mimoping.proto.v1.Capabilities;
import io.mimoping.proto.v1.EngineLimits;
import io.mimoping.proto.v1.IcmpCapability;
import io.mimoping.proto.v1.SocketCheck;
import io.mimoping.proto.v1.SocketKind;
import io.mimoping.proto.v1.Timestamping;

import java.time.Instant;
import java.util.Optional;

/**
 * The one mapper between {@link AgentCapabilities} and the {@code mimoping.v1.Capabilities} message of the
 * control channel; agent and hub convert through it at their gRPC edges.
 */
public final class CapabilityCodec {

    private CapabilityCodec() {
    }

    public static Capabilities toProto(AgentCapabilities c) {
        return Capabilities.newBuilder()
                .setAgent(c.agent()).setVersion(c.version()).setHostName(c.hostName()).setKernel(c.kernel())
                .putAllLabels(c.labels())
                .setStartedAt(timestamp(c.startedAt()))
                .setUptime(Duration.newBuilder().setSeconds(c.uptime().getSeconds()).setNanos(c.uptime().getNano()))
                .setIpv4(icmp(c.ipv4())).setIpv6(icmp(c.ipv6()))
                .setLimits(EngineLimits.newBuilder().setMaxRate(c.limits().maxRate())
                        .setMaxTargets(c.limits().maxTargets()).setShards(c.limits().shards()))
                .setDetectedAt(timestamp(c.detectedAt()))
                .build();
    }

    public static AgentCapabilities fromProto(Capabilities m) {
        return new AgentCapabilities(m.getAgent(), m.getVersion(), m.getHostName(), m.getKernel(), m.getLabelsMap(),
                instant(m.getStartedAt()),
                java.time.Duration.ofSeconds(m.getUptime().getSeconds(), m.getUptime().getNanos()),
                icmp(m.getIpv4()), icmp(m.getIpv6()),
                new AgentCapabilities.Limits(m.getLimits().getMaxRate(), m.getLimits().getMaxTargets(),
                        m.getLimits().getShards()),
                instant(m.getDetectedAt()));
    }

    private static IcmpCapability icmp(AgentCapabilities.Icmp icmp) {
        IcmpCapability.Builder b = IcmpCapability.newBuilder()
                .setRaw(check(icmp.raw())).setDatagram(check(icmp.datagram()))
                .setEngineSocket(switch (icmp.engineSocket()) {
                    case NONE -> SocketKind.SOCKET_KIND_NONE;
                    case RAW -> SocketKind.SOCKET_KIND_RAW;
                    case DATAGRAM -> SocketKind.SOCKET_KIND_DATAGRAM;
                })
                .setUnavailable(icmp.unavailable().orElse(""));
        icmp.timestamps().ifPresent(t -> b.setTimestamping(Timestamping.newBuilder()
                .setKernelTransmit(t.kernelTransmit()).setKernelReceive(t.kernelReceive()).setDetail(t.detail())));
        return b.build();
    }

    private static AgentCapabilities.Icmp icmp(IcmpCapability m) {
        return new AgentCapabilities.Icmp(check(m.getRaw()), check(m.getDatagram()),
                switch (m.getEngineSocket()) {
                    case SOCKET_KIND_RAW -> AgentCapabilities.SocketKind.RAW;
                    case SOCKET_KIND_DATAGRAM -> AgentCapabilities.SocketKind.DATAGRAM;
                    case SOCKET_KIND_NONE, UNRECOGNIZED -> AgentCapabilities.SocketKind.NONE;
                },
                m.getUnavailable().isEmpty() ? Optional.empty() : Optional.of(m.getUnavailable()),
                m.hasTimestamping() ? Optional.of(new AgentCapabilities.Timestamps(m.getTimestamping().getKernelTransmit(),
                        m.getTimestamping().getKernelReceive(), m.getTimestamping().getDetail())) : Optional.empty());
    }

    private static SocketCheck check(AgentCapabilities.SocketCheck check) {
        return SocketCheck.newBuilder().setAvailable(check.available()).setError(check.error()).build();
    }

    private static AgentCapabilities.SocketCheck check(SocketCheck m) {
        return new AgentCapabilities.SocketCheck(m.getAvailable(), m.getError());
    }

    public static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    private static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }
}
