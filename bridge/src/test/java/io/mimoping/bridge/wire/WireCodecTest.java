package io.mimoping.bridge.wire;

import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.probe.Timeout;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WireCodecTest {

    private static final Instant SENT = Instant.parse("2026-11-27T04:52:53.302487123Z");

    @Test
    void commandsSurviveTheWire() {
        PingTask task = new PingTask("t1", List.of("127.0.0.1", "::1", "localhost"), Duration.ofMillis(200), 70_000,
                Duration.ofMillis(1500), 56);
        assertEquals(new Command.Run(task), WireCodec.decodeCommand(WireCodec.encode(new Command.Run(task))));
        for (boolean report : new boolean[] {true, false}) {
            Command cancel = new Command.Cancel("t1", "the client went away", report);
            assertEquals(cancel, WireCodec.decodeCommand(WireCodec.encode(cancel)));
        }
        Command ack = new Command.Ack(Map.of("t1", 5_000_000_000L, "t2", 0L));
        assertEquals(ack, WireCodec.decodeCommand(WireCodec.encode(ack)));
    }

    @Test
    void everyEventKindSurvivesTheWire() throws Exception {
        InetAddress v4 = InetAddress.getByName("127.0.0.1");
        InetAddress v6 = InetAddress.getByName("::1");
        List<ProbeEvent> events = List.of(
                new Reply("127.0.0.1", v4, 70_000, 64, 64, 4242, 20_012_345, SENT, Reply.Kind.FIRST),
                new Reply("::1", v6, 1, 63, 64, 4242, 5_000, SENT, Reply.Kind.DUPLICATE),
                new Reply("::1", v6, 2, 63, 64, 4242, 15_000_000_000L, SENT, Reply.Kind.LATE),
                new Timeout("localhost", v4, 3, SENT),
                ProbeError.ofTarget(ErrorCode.RESOLVE_FAILED, "nope.invalid", "host name 'nope.invalid' did not resolve"),
                ProbeError.ofProbe(ErrorCode.SEND_FAILED, "127.0.0.1", 9, "sendto: Network is unreachable"),
                ProbeError.ofTarget(ErrorCode.ENGINE_STOPPED, null, "stopped"),
                new TargetStats("127.0.0.1", v4, 3, 2, 1, List.of(10L, 20L), List.of(64, 64)),
                new TargetStats("nope.invalid", null, 0, 0, 0, List.of(), List.of()));
        Report batch = new Report.Batch("t1", "agent-1", 7, events);
        assertEquals(batch, WireCodec.decodeReport(WireCodec.encode(batch)));
        Report end = new Report.End("t1", "agent-1", new TaskTotals(5, 3, 2, 1, Duration.ofMillis(1234)), 8);
        assertEquals(end, WireCodec.decodeReport(WireCodec.encode(end)));
    }

    @Test
    void garbageIsRefusedWithAClearError() {
        WireException e = assertThrows(WireException.class, () -> WireCodec.decodeReport(new byte[] {(byte) 0xff, 1, 2}));
        assertEquals(true, e.getMessage().startsWith("not a mimoping.v1 message"), e.getMessage());
        assertThrows(WireException.class, () -> WireCodec.decodeCommand(new byte[0]), "an empty command");
    }
}
