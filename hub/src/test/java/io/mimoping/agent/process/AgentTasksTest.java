package io.mimoping.agent.process;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.Topology;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.Timeout;
import io.mimoping.bridge.wire.Command;
import io.mimoping.bridge.wire.Report;
import io.mimoping.bridge.wire.WireCodec;
import io.mimoping.hub.dispatch.RabbitMq;
import io.mimoping.hub.dispatch.TestHub;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The agent's side of a result stream against the real RabbitMQ, with the hub played by hand: reports
 * are transient, so a broker restart drops those waiting in the hub's queue; the agent publishes them
 * again once its connection is back, and forgets them only when the hub acknowledges them.
 * (In the hub module's tests, next to the broker tools they share with the hub's own broker tests.)
 */
class AgentTasksTest {

    private static final String TASK = "t-restart";
    private static final int COUNT = 5;

    @Test
    void reportsARestartDroppedArePublishedAgainAndKeptUntilAcknowledged() throws Exception {
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong());
        String agent = "tasks-agent-" + id;
        String hubId = "tasks-hub-" + id;
        String replyQueue = Topology.hubQueue(hubId);
        try (IcmpEngine engine = IcmpEngine.open();
             Broker agentSide = Broker.connect(TestHub.BROKER_URL, "mimoping-test-agent-" + id);
             Broker hubSide = Broker.connect(TestHub.BROKER_URL, "mimoping-test-hub-" + id);
             AgentTasks tasks = new AgentTasks(agent, engine, agentSide)) {
            Channel hub = hubSide.connection().createChannel();
            Topology.declareHub(hub, hubId);
            tasks.start();
            // the hub's part: a task to the agent's queue, its reports left in the reply queue (nobody consumes)
            send(hub, agent, replyQueue, new Command.Run(new PingTask(TASK, List.of("127.0.0.1", "::1"), Duration.ofMillis(20),
                    COUNT, Duration.ofSeconds(1), 56)));
            // kept reports and no task running: the reporter has published the end
            await("the task's reports, end included, to be confirmed", () -> tasks.unacknowledged() > 0
                    && tasks.running() == 0 && tasks.publishCounts().pending() == 0
                    && messages(hub, replyQueue) == tasks.unacknowledged());
            int published = tasks.unacknowledged();
            assertTrue(published >= 2, "at least one batch and the end: " + published);
            long confirmed = tasks.publishCounts().confirmed();

            try {
                RabbitMq.ctl("stop_app");
            } finally {
                RabbitMq.ctl("start_app");
            }
            // the restart dropped the transient reports; the agent's copies come back, each once
            await("the reports to be published again", () -> messages(hub, replyQueue) == published);
            assertTrue(tasks.publishCounts().confirmed() >= confirmed + published, "published again and confirmed");
            List<Report> reports = drain(hub, replyQueue);
            assertEquals(published, reports.size());
            assertWholeStream(reports);

            send(hub, agent, replyQueue, new Command.Ack(TASK, 1));
            await("batch 0 to be forgotten", () -> tasks.unacknowledged() == published - 1);
            send(hub, agent, replyQueue, new Command.Ack(TASK, published));
            await("the whole stream to be forgotten", () -> tasks.unacknowledged() == 0);
            hub.queueDelete(replyQueue);
        } finally {
            RabbitMq.ctl("start_app");
        }
    }

    /** Batches 0..n-1 and the end once each, and one outcome per probe sent. */
    private static void assertWholeStream(List<Report> reports) {
        List<Long> batches = new ArrayList<>();
        Map<String, Integer> outcomes = new HashMap<>();
        Report.End end = null;
        for (Report report : reports) {
            switch (report) {
                case Report.Batch batch -> {
                    batches.add(batch.seq());
                    for (ProbeEvent event : batch.events()) {
                        switch (event) {
                            case Reply reply when reply.kind() == Reply.Kind.FIRST ->
                                    outcomes.merge(reply.target() + "#" + reply.seq(), 1, Integer::sum);
                            case Timeout timeout -> outcomes.merge(timeout.target() + "#" + timeout.seq(), 1, Integer::sum);
                            default -> { }
                        }
                    }
                }
                case Report.End e -> end = e;
            }
        }
        batches.sort(null);
        if (end == null) {
            fail("no end message among " + reports.size() + " reports");
        }
        List<Long> expected = new ArrayList<>();
        for (long b = 0; b < end.batches(); b++) {
            expected.add(b);
        }
        assertEquals(expected, batches, "every batch once");
        assertEquals(2 * COUNT, outcomes.size(), outcomes.toString());
        outcomes.forEach((probe, n) -> assertEquals(1, n, "outcomes of " + probe));
        assertEquals(2 * COUNT, end.totals().sent());
    }

    private static void send(Channel hub, String agent, String replyQueue, Command command) throws IOException {
        hub.basicPublish(Topology.TASK_EXCHANGE, agent, true, Topology.properties().replyTo(replyQueue).build(),
                WireCodec.encode(command));
    }

    private static long messages(Channel hub, String queue) {
        try {
            return hub.queueDeclarePassive(queue).getMessageCount();
        } catch (IOException | RuntimeException e) {
            return -1; // the broker is still coming back
        }
    }

    private static List<Report> drain(Channel hub, String queue) throws IOException {
        List<Report> reports = new ArrayList<>();
        for (GetResponse got = hub.basicGet(queue, true); got != null; got = hub.basicGet(queue, true)) {
            reports.add(WireCodec.decodeReport(got.getBody()));
        }
        return reports;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after 30 s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
