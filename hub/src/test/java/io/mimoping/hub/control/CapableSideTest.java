package io.mimoping.hub.control;

import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.bridge.control.AgentCapabilities;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TaskTotals;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pinging side whose control channel reports no IPv6 ICMP, in front of a real engine: its IPv6 targets
 * get {@code unsupported} at once, the rest is pinged.
 */
class CapableSideTest {

    private static IcmpEngine engine;

    @BeforeAll
    static void open() {
        engine = IcmpEngine.open(1);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static final AgentCapabilities.Icmp NO_ICMP = new AgentCapabilities.Icmp(
            AgentCapabilities.SocketCheck.refused("IPv6 raw ICMP socket: Operation not permitted"),
            AgentCapabilities.SocketCheck.refused("IPv6 datagram ICMP socket: Permission denied"),
            AgentCapabilities.SocketKind.NONE, Optional.of("no permission to send IPv6 ICMP"), Optional.empty());
    private static final AgentCapabilities.Icmp RAW = new AgentCapabilities.Icmp(AgentCapabilities.SocketCheck.OPENED,
            AgentCapabilities.SocketCheck.OPENED, AgentCapabilities.SocketKind.RAW, Optional.empty(),
            Optional.of(new AgentCapabilities.Timestamps(true, true, "kernel")));

    private static AgentCapabilities withIpv6(AgentCapabilities.Icmp ipv6) {
        return new AgentCapabilities("a1", "test", "host", "Linux", Map.of(), Instant.EPOCH, Duration.ZERO, RAW, ipv6,
                new AgentCapabilities.Limits(1, 1, 1), Instant.EPOCH);
    }

    private record Run(List<ProbeEvent> events, TaskTotals totals) {
    }

    private static Run run(CapableSide side, List<String> targets) throws Exception {
        List<ProbeEvent> events = new CopyOnWriteArrayList<>();
        CompletableFuture<TaskTotals> finished = new CompletableFuture<>();
        side.start(new PingTask("t1", targets, Duration.ofMillis(20), 2, Duration.ofSeconds(2), 56), new ProbeListener() {
            @Override
            public void onEvent(ProbeEvent event) {
                events.add(event);
            }

            @Override
            public void onFinished(TaskTotals totals) {
                finished.complete(totals);
            }
        });
        return new Run(events, finished.get(10, TimeUnit.SECONDS));
    }

    @Test
    void targetsOfAFamilyTheAgentCannotSendAreUnsupportedAndTheRestRuns() throws Exception {
        CapableSide side = new CapableSide("a1", engine, () -> Optional.of(withIpv6(NO_ICMP)));
        Run run = run(side, List.of("::1", "127.0.0.1", "localhost"));
        List<ProbeError> errors = run.events.stream().filter(e -> e instanceof ProbeError).map(e -> (ProbeError) e).toList();
        assertEquals(1, errors.size(), errors.toString());
        assertEquals(ErrorCode.UNSUPPORTED, errors.getFirst().code());
        assertEquals("::1", errors.getFirst().target());
        assertEquals("agent 'a1' cannot send IPv6 ICMP: no permission to send IPv6 ICMP", errors.getFirst().message());
        List<String> answered = run.events.stream().filter(e -> e instanceof Reply).map(ProbeEvent::target).distinct().sorted().toList();
        assertEquals(List.of("127.0.0.1", "localhost"), answered, "names are left to the agent, which resolves them");
        assertEquals(4, run.totals.sent());
        assertEquals(4, run.totals.received());
        assertEquals(1, run.totals.errors(), "the unsupported pair counts as an error");
    }

    @Test
    void aTaskWithOnlyUnsupportedTargetsEndsAtOnce() throws Exception {
        Run run = run(new CapableSide("a1", engine, () -> Optional.of(withIpv6(NO_ICMP))), List.of("::1"));
        assertEquals(1, run.events.size(), run.events.toString());
        assertEquals(new TaskTotals(0, 0, 0, 1, Duration.ZERO), run.totals);
    }

    @Test
    void withoutKnownCapabilitiesEverythingGoesToTheAgent() throws Exception {
        Run run = run(new CapableSide("a1", engine, Optional::empty), List.of("::1", "127.0.0.1"));
        assertEquals(4, run.totals.received(), run.events.toString());
        assertTrue(run.events.stream().noneMatch(e -> e instanceof ProbeError), run.events.toString());
    }
}
