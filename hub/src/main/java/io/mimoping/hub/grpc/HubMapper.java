package io.mimoping.hub.grpc;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mimoping.bridge.control.CapabilityCodec;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.hub.control.CapabilityState;
import io.mimoping.hub.event.AddressText;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.ws.Agent;
import io.mimoping.proto.v1.AgentInfo;
import io.mimoping.proto.v1.Error;
import io.mimoping.proto.v1.PingStats;
import io.mimoping.proto.v1.RunTaskRequest;
import io.mimoping.proto.v1.Stats;
import io.mimoping.proto.v1.TaskEnded;
import io.mimoping.proto.v1.TaskError;
import io.mimoping.proto.v1.TaskEvent;
import io.mimoping.proto.v1.TaskStarted;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * The one mapper between the hub's types and the {@code mimoping.v1.Hub} messages. Task events carry the
 * NDJSON event's type and metadata beside their data, so a gRPC client sees what a {@code /ping-task} client
 * sees.
 */
final class HubMapper {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HubMapper() {
    }

    static AgentInfo agent(Agent agent, CapabilityState state) {
        AgentInfo.Builder info = AgentInfo.newBuilder()
                .setName(agent.name()).setRemoteAddr(agent.remoteAddress())
                .setConnectedSince(CapabilityCodec.timestamp(agent.connectedSince()))
                .setVersion(agent.version()).putAllLabels(agent.labels())
                .setControlAddr(agent.controlAddress() == null ? "" : agent.controlAddress());
        if (state instanceof CapabilityState.Detected(var capabilities)) {
            info.setCapabilities(CapabilityCodec.toProto(capabilities));
        } else {
            info.setCapabilitiesError(state.reason());
        }
        return info.build();
    }

    /**
     * The request as a {@code POST /ping-task} body (fields left unset stay out, so their defaults apply):
     * both transports go through one parser, with the same limits and the same messages.
     */
    static byte[] asJson(RunTaskRequest request) {
        ObjectNode body = JSON.createObjectNode();
        if (request.getFromCount() > 0) {
            request.getFromList().forEach(body.putArray("from")::add);
        }
        if (request.getTargetsCount() > 0) {
            request.getTargetsList().forEach(body.putArray("targets")::add);
        }
        if (request.hasInterval()) {
            body.put("interval", Integer.toUnsignedLong(request.getInterval()));
        }
        if (request.hasCount()) {
            body.put("count", Integer.toUnsignedLong(request.getCount()));
        }
        if (request.hasTimeout()) {
            body.put("timeout", Integer.toUnsignedLong(request.getTimeout()));
        }
        if (request.hasSize()) {
            body.put("size", Integer.toUnsignedLong(request.getSize()));
        }
        return body.toString().getBytes(StandardCharsets.UTF_8);
    }

    static TaskEvent.Builder started(String taskId, TaskRequest request) {
        return TaskEvent.newBuilder().setType("task").setStarted(TaskStarted.newBuilder()
                .setId(taskId).addAllFrom(request.from()).addAllTargets(request.targets())
                .setInterval(Math.toIntExact(request.interval().toMillis())).setCount(request.count())
                .setTimeout(Math.toIntExact(request.timeout().toMillis())).setSize(request.size()));
    }

    static TaskEvent.Builder probe(ProbeEvent event) {
        TaskEvent.Builder message = TaskEvent.newBuilder();
        switch (event) {
            case Reply r -> message.setType(switch (r.kind()) {
                case FIRST -> "pkt_recv";
                case DUPLICATE -> "pkt_dup_recv";
                case LATE -> "pkt_late_recv";
            }).setReply(io.mimoping.proto.v1.Reply.newBuilder()
                    .setTarget(r.target()).setIpAddr(text(r.address())).setSeq(r.seq()).setTtl(r.ttl())
                    .setNbytes(r.nbytes()).setId(r.id()).setRttNs(r.rttNanos())
                    .setSentAt(CapabilityCodec.timestamp(r.sentAt())).setKind(switch (r.kind()) {
                        case FIRST -> io.mimoping.proto.v1.Reply.Kind.KIND_FIRST;
                        case DUPLICATE -> io.mimoping.proto.v1.Reply.Kind.KIND_DUPLICATE;
                        case LATE -> io.mimoping.proto.v1.Reply.Kind.KIND_LATE;
                    }));
            case Timeout t -> message.setType("pkt_timeout").setTimeout(io.mimoping.proto.v1.Timeout.newBuilder()
                    .setTarget(t.target()).setIpAddr(text(t.address())).setSeq(t.seq())
                    .setSentAt(CapabilityCodec.timestamp(t.sentAt())));
            case ProbeError e -> message.setType("error").setError(error(e, null));
            case TargetStats s -> message.setType("ping_stats").setStats(stats(s));
        }
        return message;
    }

    static TaskEvent.Builder agentError(String agent, ProbeError error) {
        return TaskEvent.newBuilder().setType("error").setError(error(error, agent));
    }

    static TaskEvent.Builder end(TaskTotals totals) {
        return TaskEvent.newBuilder().setType("end").setEnd(TaskEnded.newBuilder()
                .setSent(totals.sent()).setReceived(totals.received()).setTimeouts(totals.timeouts())
                .setErrors(totals.errors()).setDurationMs(totals.duration().toMillis()));
    }

    private static TaskError error(ProbeError e, String agent) {
        Error.Builder error = Error.newBuilder().setCode(e.code().wireName()).setMessage(e.message());
        if (e.target() != null) {
            error.setTarget(e.target());
        }
        e.seq().ifPresent(error::setSeq);
        return TaskError.newBuilder().setError(error).setAgent(agent == null ? "" : agent).build();
    }

    private static PingStats stats(TargetStats s) {
        Stats.Builder stats = Stats.newBuilder().setTarget(s.target())
                .setPacketsSent(s.sent()).setPacketsRecv(s.received()).setPacketsRecvDuplicates(s.duplicates())
                .addAllRttsNs(s.rttNanos()).addAllTtls(s.ttls());
        if (s.address() != null) {
            stats.setIpAddr(text(s.address()));
        }
        long[] percentiles = s.percentilesNanos(50, 90, 99);
        return PingStats.newBuilder().setStats(stats)
                .setPacketLoss(s.lossPercent())
                .setMinRttNs(s.minNanos()).setAvgRttNs(s.meanNanos()).setMaxRttNs(s.maxNanos())
                .setStdDevRttNs(s.stdDevNanos()).setJitterNs(s.jitterNanos())
                .setP50Ns(percentiles[0]).setP90Ns(percentiles[1]).setP99Ns(percentiles[2])
                .build();
    }

    private static String text(InetAddress address) {
        return AddressText.of(address);
    }
}
