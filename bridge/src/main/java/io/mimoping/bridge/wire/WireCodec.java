package io.mimoping.bridge.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.proto.v1.AgentCommand;
import io.mimoping.proto.v1.AgentReport;
import io.mimoping.proto.v1.CancelTask;
import io.mimoping.proto.v1.Error;
import io.mimoping.proto.v1.ResultBatch;
import io.mimoping.proto.v1.ResultsAck;
import io.mimoping.proto.v1.Stats;
import io.mimoping.proto.v1.TaskEnd;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The one mapper between the probe model and the {@code mimoping.v1} protobuf messages that travel
 * between hub and agents. Nothing else sees protobuf types.
 */
public final class WireCodec {

    private WireCodec() {
    }

    /** Encodes a command for an agent's task queue. */
    public static byte[] encode(Command command) {
        AgentCommand.Builder message = AgentCommand.newBuilder();
        switch (command) {
            case Command.Run(PingTask task) -> message.setRun(io.mimoping.proto.v1.PingTask.newBuilder()
                    .setTaskId(task.id())
                    .addAllTargets(task.targets())
                    .setIntervalMs(Math.toIntExact(task.interval().toMillis()))
                    .setCount(task.count())
                    .setTimeoutMs(Math.toIntExact(task.timeout().toMillis()))
                    .setPayloadSize(task.payloadSize()));
            case Command.Cancel(String taskId, String reason, boolean report) ->
                    message.setCancel(CancelTask.newBuilder().setTaskId(taskId).setReason(reason).setReport(report));
            case Command.Ack(Map<String, Long> received) ->
                    message.setAck(ResultsAck.newBuilder().putAllReceived(received));
        }
        return message.build().toByteArray();
    }

    /**
     * Decodes a command from an agent's task queue.
     *
     * @throws WireException if the bytes are not a valid command
     */
    public static Command decodeCommand(byte[] bytes) {
        AgentCommand message = parse(() -> AgentCommand.parseFrom(bytes));
        return switch (message.getCommandCase()) {
            case RUN -> {
                io.mimoping.proto.v1.PingTask task = message.getRun();
                try {
                    yield new Command.Run(new PingTask(task.getTaskId(), task.getTargetsList(),
                            Duration.ofMillis(task.getIntervalMs()), task.getCount(),
                            Duration.ofMillis(task.getTimeoutMs()), task.getPayloadSize()));
                } catch (IllegalArgumentException e) {
                    throw new WireException("invalid task " + task.getTaskId() + ": " + e.getMessage(), e);
                }
            }
            case CANCEL -> new Command.Cancel(message.getCancel().getTaskId(), message.getCancel().getReason(),
                    message.getCancel().getReport());
            case ACK -> new Command.Ack(message.getAck().getReceivedMap());
            case COMMAND_NOT_SET -> throw new WireException("command without content");
        };
    }

    /** Encodes a report for the hub's reply queue. */
    public static byte[] encode(Report report) {
        AgentReport.Builder message = AgentReport.newBuilder();
        switch (report) {
            case Report.Batch batch -> {
                ResultBatch.Builder b = ResultBatch.newBuilder()
                        .setTaskId(batch.taskId()).setFrom(batch.from()).setBatchSeq(batch.seq());
                batch.events().forEach(e -> b.addEvents(event(e)));
                message.setBatch(b);
            }
            case Report.End end -> message.setEnd(TaskEnd.newBuilder()
                    .setTaskId(end.taskId()).setFrom(end.from())
                    .setSent(end.totals().sent()).setReceived(end.totals().received())
                    .setTimeouts(end.totals().timeouts()).setErrors(end.totals().errors())
                    .setDurationMs(end.totals().duration().toMillis())
                    .setBatches(end.batches()));
        }
        return message.build().toByteArray();
    }

    /**
     * Decodes a report from the hub's reply queue.
     *
     * @throws WireException if the bytes are not a valid report
     */
    public static Report decodeReport(byte[] bytes) {
        AgentReport message = parse(() -> AgentReport.parseFrom(bytes));
        return switch (message.getReportCase()) {
            case BATCH -> {
                ResultBatch batch = message.getBatch();
                yield new Report.Batch(batch.getTaskId(), batch.getFrom(), batch.getBatchSeq(),
                        batch.getEventsList().stream().map(WireCodec::event).toList());
            }
            case END -> {
                TaskEnd end = message.getEnd();
                yield new Report.End(end.getTaskId(), end.getFrom(), new TaskTotals(end.getSent(), end.getReceived(),
                        end.getTimeouts(), end.getErrors(), Duration.ofMillis(end.getDurationMs())), end.getBatches());
            }
            case REPORT_NOT_SET -> throw new WireException("report without content");
        };
    }

    private static io.mimoping.proto.v1.ProbeEvent event(ProbeEvent event) {
        io.mimoping.proto.v1.ProbeEvent.Builder message = io.mimoping.proto.v1.ProbeEvent.newBuilder();
        switch (event) {
            case Reply r -> message.setReply(io.mimoping.proto.v1.Reply.newBuilder()
                    .setTarget(r.target()).setIpAddr(r.address().getHostAddress()).setSeq(r.seq())
                    .setTtl(r.ttl()).setNbytes(r.nbytes()).setId(r.id()).setRttNs(r.rttNanos())
                    .setSentAt(timestamp(r.sentAt())).setKind(switch (r.kind()) {
                        case FIRST -> io.mimoping.proto.v1.Reply.Kind.KIND_FIRST;
                        case DUPLICATE -> io.mimoping.proto.v1.Reply.Kind.KIND_DUPLICATE;
                        case LATE -> io.mimoping.proto.v1.Reply.Kind.KIND_LATE;
                    }));
            case Timeout t -> message.setTimeout(io.mimoping.proto.v1.Timeout.newBuilder()
                    .setTarget(t.target()).setIpAddr(t.address().getHostAddress()).setSeq(t.seq())
                    .setSentAt(timestamp(t.sentAt())));
            case ProbeError e -> {
                Error.Builder error = Error.newBuilder().setCode(e.code().wireName()).setMessage(e.message());
                if (e.target() != null) {
                    error.setTarget(e.target());
                }
                e.seq().ifPresent(error::setSeq);
                message.setError(error);
            }
            case TargetStats s -> {
                Stats.Builder stats = Stats.newBuilder().setTarget(s.target())
                        .setPacketsSent(s.sent()).setPacketsRecv(s.received()).setPacketsRecvDuplicates(s.duplicates())
                        .addAllRttsNs(s.rttNanos()).addAllTtls(s.ttls());
                if (s.address() != null) {
                    stats.setIpAddr(s.address().getHostAddress());
                }
                message.setStats(stats);
            }
        }
        return message.build();
    }

    private static ProbeEvent event(io.mimoping.proto.v1.ProbeEvent message) {
        return switch (message.getEventCase()) {
            case REPLY -> {
                io.mimoping.proto.v1.Reply r = message.getReply();
                yield new Reply(r.getTarget(), address(r.getIpAddr()), r.getSeq(), r.getTtl(), r.getNbytes(), r.getId(),
                        r.getRttNs(), instant(r.getSentAt()), switch (r.getKind()) {
                            case KIND_FIRST -> Reply.Kind.FIRST;
                            case KIND_DUPLICATE -> Reply.Kind.DUPLICATE;
                            case KIND_LATE -> Reply.Kind.LATE;
                            case KIND_UNSPECIFIED, UNRECOGNIZED -> throw new WireException("reply without a kind");
                        });
            }
            case TIMEOUT -> {
                io.mimoping.proto.v1.Timeout t = message.getTimeout();
                yield new Timeout(t.getTarget(), address(t.getIpAddr()), t.getSeq(), instant(t.getSentAt()));
            }
            case ERROR -> {
                Error e = message.getError();
                ErrorCode code = Arrays.stream(ErrorCode.values()).filter(c -> c.wireName().equals(e.getCode()))
                        .findFirst().orElseThrow(() -> new WireException("unknown error code '" + e.getCode() + "'"));
                yield new ProbeError(code, e.getMessage(), e.getTarget().isEmpty() ? null : e.getTarget(),
                        e.hasSeq() ? OptionalLong.of(e.getSeq()) : OptionalLong.empty());
            }
            case STATS -> {
                Stats s = message.getStats();
                yield new TargetStats(s.getTarget(), s.getIpAddr().isEmpty() ? null : address(s.getIpAddr()),
                        s.getPacketsSent(), s.getPacketsRecv(), s.getPacketsRecvDuplicates(), s.getRttsNsList(),
                        s.getTtlsList());
            }
            case EVENT_NOT_SET -> throw new WireException("event without content");
        };
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    private static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    /** An address literal as the agent printed it (never a name: no lookup happens). */
    private static InetAddress address(String literal) {
        if (literal.isEmpty() || !(Character.digit(literal.charAt(0), 16) >= 0 || literal.charAt(0) == ':')) {
            throw new WireException("not an IP address: '" + literal + "'");
        }
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new WireException("not an IP address: '" + literal + "'", e);
        }
    }

    private interface Parser<T> {
        T parse() throws InvalidProtocolBufferException;
    }

    private static <T> T parse(Parser<T> parser) {
        try {
            return parser.parse();
        } catch (InvalidProtocolBufferException e) {
            throw new WireException("not a mimoping.v1 message: " + e.getMessage(), e);
        }
    }
}
