package io.mimoping.agent.process;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DeliverCallback;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The agent's side of a result stream against the real RabbitMQ, with the hub played by hand: reports
 * are transient, so a broker restart drops those waiting in the hub's queue; the agent publishes them
 * again once its connection is back, and forgets them only when the hub acknowledges them.
 * (In the hub module's tests, next to the broker tools they share with the hub's own broker tests.)
 */
class AgentTasksTest {

    private static final String TASK = "t-reports";
    private static final int COUNT = 5;
    /** For agents whose queue no other process takes here: they never hear they cannot serve. */
    private static final Consumer<String> NOT_TAKEN = why -> { };

    /**
     * An agent's task side and, played by hand, its hub: a queue of the hub's that nobody consumes, where the
     * reports of one finished task wait.
     */
    private static final class Fixture implements AutoCloseable {

        final String id = Long.toHexString(ThreadLocalRandom.current().nextLong());
        final String agent = "tasks-agent-" + id;
        final String replyQueue = Topology.hubQueue("tasks-hub-" + id);
        final IcmpEngine engine = IcmpEngine.open();
        final Broker agentSide = Broker.connect(TestHub.BROKER_URL, "mimoping-test-agent-" + id);
        final Broker hubSide = Broker.connect(TestHub.BROKER_URL, "mimoping-test-hub-" + id);
        final AgentTasks tasks;
        final Channel hub;
        final int published;

        /** Runs one task to its end; its reports, end included, wait confirmed in the hub's queue. */
        Fixture(Duration republishAfter) throws Exception {
            this(republishAfter, Duration.ofMinutes(10));
        }

        /** As above, with tasks stopped once the hub's queue has had no consumer for {@code hubGoneAfter}. */
        Fixture(Duration republishAfter, Duration hubGoneAfter) throws Exception {
            tasks = new AgentTasks(agent, engine, agentSide, republishAfter, hubGoneAfter, NOT_TAKEN);
            hub = hubSide.connection().createChannel();
            Topology.declareHub(hub, "tasks-hub-" + id);
            tasks.start();
            send(new Command.Run(new PingTask(TASK, List.of("127.0.0.1", "::1"), Duration.ofMillis(20), COUNT,
                    Duration.ofSeconds(1), 56)));
            // kept reports and no task running: the reporter has published the end
            await("the task's reports, end included, to be confirmed", () -> tasks.unacknowledged() > 0
                    && tasks.running() == 0 && tasks.publishCounts().pending() == 0
                    && messages() == tasks.unacknowledged());
            published = tasks.unacknowledged();
            assertTrue(published >= 2, "at least one batch and the end: " + published);
        }

        void send(Command command) throws IOException {
            hub.basicPublish(Topology.TASK_EXCHANGE, agent, true, Topology.properties().replyTo(replyQueue).build(),
                    WireCodec.encode(command));
        }

        long messages() {
            try {
                return hub.queueDeclarePassive(replyQueue).getMessageCount();
            } catch (IOException | RuntimeException e) {
                return -1; // the broker is still coming back
            }
        }

        List<Report> drain() throws IOException {
            List<Report> reports = new ArrayList<>();
            for (GetResponse got = hub.basicGet(replyQueue, true); got != null; got = hub.basicGet(replyQueue, true)) {
                reports.add(WireCodec.decodeReport(got.getBody()));
            }
            return reports;
        }

        @Override
        public void close() throws Exception {
            try {
                hub.queueDelete(replyQueue);
            } finally {
                tasks.close();
                hubSide.close();
                agentSide.close();
                engine.close();
            }
        }
    }

    @Test
    void reportsARestartDroppedArePublishedAgainAndKeptUntilAcknowledged() throws Exception {
        try (Fixture agent = new Fixture(Duration.ofMinutes(10))) {
            long confirmed = agent.tasks.publishCounts().confirmed();
            try {
                RabbitMq.ctl("stop_app");
            } finally {
                RabbitMq.ctl("start_app");
            }
            // the restart dropped the transient reports; the agent's copies come back, each once
            await("the reports to be published again", () -> agent.messages() == agent.published);
            assertTrue(agent.tasks.publishCounts().confirmed() >= confirmed + agent.published,
                    "published again and confirmed");
            List<Report> reports = agent.drain();
            assertEquals(agent.published, reports.size());
            assertWholeStream(reports);

            agent.send(new Command.Ack(Map.of(TASK, 1L)));
            await("batch 0 to be forgotten", () -> agent.tasks.unacknowledged() == agent.published - 1);
            agent.send(new Command.Ack(Map.of(TASK, (long) agent.published)));
            await("the whole stream to be forgotten", () -> agent.tasks.unacknowledged() == 0);
        } finally {
            RabbitMq.ctl("start_app");
        }
    }

    @Test
    void reportsLostWithoutAReconnectArePublishedAgainOnceWhenNoAcknowledgementComes() throws Exception {
        try (Fixture agent = new Fixture(Duration.ofSeconds(2))) {
            agent.hub.queuePurge(agent.replyQueue); // lost on the way, the connection still up
            await("the reports to be published again", () -> agent.messages() == agent.published);
            assertWholeStream(agent.drain());
            Thread.sleep(4_000); // a second republish would come within 3 s: the hub still acknowledges nothing
            assertEquals(0, agent.messages(), "published again once, not again and again");
            agent.send(new Command.Ack(Map.of(TASK, (long) agent.published)));
            await("the whole stream to be forgotten", () -> agent.tasks.unacknowledged() == 0);
        }
    }

    /**
     * A hub killed leaves its queue behind (until it expires, 60 s unused). The agent stops a task whose
     * reports go unacknowledged once that queue has had no consumer for a while; not while it has one.
     */
    @Test
    void aTaskStopsOnceItsHubsQueueHasHadNoConsumerForAWhile() throws Exception {
        Duration gone = Duration.ofSeconds(2);
        try (Fixture agent = new Fixture(Duration.ofMillis(500), gone)) {
            String hubConsumer = agent.hub.basicConsume(agent.replyQueue, true, (tag, delivery) -> { }, tag -> { });
            agent.send(new Command.Run(new PingTask("t-long", List.of("127.0.0.1"), Duration.ofMillis(50), 100_000,
                    Duration.ofSeconds(1), 56)));
            await("the task to run", () -> agent.tasks.running() == 1);
            Thread.sleep(500 + 2 * gone.toMillis()); // unacknowledged all along, looked at several times
            assertEquals(1, agent.tasks.running(), "a hub that consumes its queue is there, acknowledging or not");

            agent.hub.basicCancel(hubConsumer); // the hub is killed
            long left = System.nanoTime();
            await("the task to stop", () -> agent.tasks.running() == 0);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - left);
            assertTrue(ms >= gone.toMillis() - 100 && ms < gone.toMillis() + 3_000,
                    "stopped " + ms + " ms after the hub's consumer left, " + gone.toMillis() + " ms expected");
            assertEquals(0, agent.tasks.unacknowledged(), "and its reports forgotten");
        }
    }

    /**
     * A hub away for a while (a broker restart on its side) that comes back and acknowledges again does not count
     * towards the next time it is away: then the task still gets the whole limit.
     */
    @Test
    void eachTimeTheHubIsAwayCountsOnItsOwn() throws Exception {
        Duration gone = Duration.ofSeconds(3);
        try (Fixture agent = new Fixture(Duration.ofMillis(500), gone)) {
            AtomicBoolean acking = new AtomicBoolean(true);
            AtomicLong received = new AtomicLong();
            DeliverCallback hubTakes = (tag, delivery) -> {
                if (WireCodec.decodeReport(delivery.getBody()).taskId().equals("t-long")) {
                    long n = received.incrementAndGet();
                    if (acking.get()) {
                        agent.send(new Command.Ack(Map.of("t-long", n)));
                    }
                }
            };
            String hubConsumer = agent.hub.basicConsume(agent.replyQueue, true, hubTakes, tag -> { });
            agent.send(new Command.Run(new PingTask("t-long", List.of("127.0.0.1"), Duration.ofMillis(50), 100_000,
                    Duration.ofSeconds(1), 56)));
            await("the task to run", () -> agent.tasks.running() == 1);

            agent.hub.basicCancel(hubConsumer); // away for 2 s: looked at, found missing, not long enough
            Thread.sleep(2_000);
            hubConsumer = agent.hub.basicConsume(agent.replyQueue, true, hubTakes, tag -> { });
            Thread.sleep(4_000); // back, acknowledging: no more looks
            assertEquals(1, agent.tasks.running(), "a hub away for less than the limit leaves the task running");

            acking.set(false);
            agent.hub.basicCancel(hubConsumer); // away again, for good
            long left = System.nanoTime();
            await("the task to stop", () -> agent.tasks.running() == 0);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - left);
            assertTrue(ms >= gone.toMillis() - 100, "stopped " + ms + " ms after the hub left again, "
                    + gone.toMillis() + " ms at least expected: the first time away did not count");
        }
    }

    /**
     * The broker drops the agent's connection, and a twin of its name takes the queue before the connection comes
     * back: the broker refuses the agent's consumer when the connection recovers. The agent says it cannot serve
     * (it then leaves its hub) and takes its queue again once the twin is gone, when it registers again.
     */
    @Test
    void anAgentWhoseQueueATwinTookDuringARecoverySaysItCannotServe() throws Exception {
        String agent = "queue-lost-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        String queue = Topology.agentQueue(agent);
        BlockingQueue<String> cannotServe = new LinkedBlockingQueue<>();
        try (IcmpEngine engine = IcmpEngine.open();
             Broker live = Broker.connect(TestHub.BROKER_URL, "mimoping-test-live-" + agent);
             Broker other = Broker.connect(TestHub.BROKER_URL, "mimoping-test-other-" + agent)) {
            AgentTasks tasks = new AgentTasks(agent, engine, live, cannotServe::add);
            try {
                tasks.start();
                AgentTasks twin = new AgentTasks(agent, engine, other, NOT_TAKEN);
                // the agent reconnects a second after the cut; the twin keeps trying meanwhile (rabbitmqctl itself
                // may take longer than that to return)
                CompletableFuture<Void> cut = CompletableFuture.runAsync(
                        () -> RabbitMq.closeConnection("mimoping-test-live-" + agent));
                await("the twin to take the queue while the agent reconnects", () -> {
                    try {
                        twin.start();
                        return true;
                    } catch (HubLink.NotReadyException e) {
                        return false;
                    }
                });
                cut.get(60, TimeUnit.SECONDS);
                String why = cannotServe.poll(20, TimeUnit.SECONDS);
                assertNotNull(why, "the agent said it cannot serve");
                assertTrue(why.contains("another agent named '" + agent + "'"), why);
                assertEquals(1, RabbitMq.consumers(queue), "the twin alone takes the name's tasks");

                twin.close();
                tasks.start(); // registered again
                assertEquals(1, RabbitMq.consumers(queue), "the agent takes its queue again");
            } finally {
                tasks.close();
            }
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

    /**
     * The agent's queue belongs to the process that takes from it: another process of the same name (refused by
     * its hub as a duplicate, or serving another hub) leaves it alone when it stops, and if the queue is deleted
     * all the same, its agent declares it again and goes on taking tasks.
     */
    @Test
    void theQueueStaysWithTheProcessThatTakesFromIt() throws Exception {
        String agent = "queue-owner-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        String queue = Topology.agentQueue(agent);
        try (IcmpEngine engine = IcmpEngine.open();
             Broker live = Broker.connect(TestHub.BROKER_URL, "mimoping-test-live-" + agent);
             Broker other = Broker.connect(TestHub.BROKER_URL, "mimoping-test-other-" + agent);
             Broker admin = Broker.connect(TestHub.BROKER_URL, "mimoping-test-admin-" + agent)) {
            Channel look = admin.connection().createChannel();
            AgentTasks tasks = new AgentTasks(agent, engine, live, NOT_TAKEN);
            try {
                tasks.start();
                assertEquals(1, RabbitMq.consumers(queue), "the live agent takes from its queue");

                new AgentTasks(agent, engine, other, NOT_TAKEN).close(); // refused at registration: never took a task
                assertEquals(1, RabbitMq.consumers(queue), "a refused twin left the queue alone");
                AgentTasks twin = new AgentTasks(agent, engine, other, NOT_TAKEN);
                // a twin registered at another hub: it would take half the tasks under the live agent's name
                HubLink.NotReadyException taken = assertThrows(HubLink.NotReadyException.class, twin::start);
                assertTrue(taken.getMessage().contains("another agent named '" + agent + "'"), taken.getMessage());
                twin.close();
                assertEquals(1, RabbitMq.consumers(queue), "a twin refused the queue left it to the live agent");

                look.queueDelete(queue);
                await("the agent to declare its deleted queue again and take from it",
                        () -> RabbitMq.consumers(queue) == 1);
            } finally {
                tasks.close();
            }
            assertEquals(-1, RabbitMq.consumers(queue), "a clean stop takes the queue along");
        }
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
