package io.mimoping.hub.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.Topology;
import io.mimoping.bridge.probe.Reply;
import io.mimoping.bridge.probe.TargetStats;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.bridge.wire.Command;
import io.mimoping.bridge.wire.Report;
import io.mimoping.bridge.wire.WireCodec;
import io.mimoping.hub.ChildJvm;
import io.mimoping.hub.http.StreamClients;
import io.mimoping.hub.ws.WsClient;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hub and agents over a real RabbitMQ (127.0.0.1:5672, guest/guest; CI starts it): results of several
 * agents merged into one stream, unknown and offline agents, agents killed mid-task, cancels,
 * broker restarts, two hubs on one broker, and no queue or consumer left behind.
 */
class DistributedModeTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration HEARTBEAT = Duration.ofMillis(1000);
    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();
    private final HttpClient http = HttpClient.newHttpClient();

    private static String agentName(String prefix) {
        return prefix + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    }

    private static AgentMain agent(TestHub hub, String name) {
        return AgentMain.start("--node-name", name, "--addr", hub.addr(), "--rabbitmq-broker-url", TestHub.BROKER_URL,
                "--control-addr", "127.0.0.1:0");
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static void awaitRegistered(TestHub hub, String... names) throws InterruptedException {
        await("agents " + List.of(names) + " registered and consuming", Duration.ofSeconds(30), () -> {
            for (String name : names) {
                if (hub.registry.find(name).isEmpty() || RabbitMq.consumers(Topology.agentQueue(name)) < 1) {
                    return false;
                }
            }
            return true;
        });
    }

    private List<JsonNode> run(TestHub hub, String body) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + hub.addr() + "/ping-task"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        List<JsonNode> events = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            if (!line.isBlank()) {
                events.add(JSON.readTree(line));
            }
        }
        return events;
    }

    /** The hub acknowledged every report, end included: the agent keeps none (as its metrics say). */
    private void awaitNothingUnacknowledged(AgentMain agent) throws InterruptedException {
        await("the hub to acknowledge every report of the agent", Duration.ofSeconds(5),
                () -> unacknowledged(agent) == 0);
    }

    private double unacknowledged(AgentMain agent) {
        return Double.parseDouble(metric(agent, "mimoping_agent_reports_unacknowledged"));
    }

    /** The value of an unlabelled series in the agent's {@code /metrics}. */
    private String metric(AgentMain agent, String series) {
        String metrics = get("http://" + agent.controlAddress() + "/metrics");
        return metrics.lines().filter(l -> l.startsWith(series + " ")).map(l -> l.substring(l.indexOf(' ') + 1))
                .findFirst().orElseThrow(() -> new AssertionError("no " + series + " in " + metrics));
    }

    private String get(String uri) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(uri)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new AssertionError("cannot GET " + uri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.get("type").asText().equals(type)).toList();
    }

    /** Each probe of each (agent, target) ends exactly once: in a pkt_recv or pkt_timeout. */
    private static void assertExactlyOnce(List<JsonNode> events, List<String> agents, List<String> targets, int count) {
        Map<String, Integer> outcomes = new HashMap<>();
        for (JsonNode e : events) {
            String type = e.get("type").asText();
            if (type.equals("pkt_recv") || type.equals("pkt_timeout")) {
                outcomes.merge(e.get("metadata").get("from").asText() + "/" + e.get("data").get("target").asText()
                        + "#" + e.get("data").get("seq").asLong(), 1, Integer::sum);
            }
        }
        for (String agent : agents) {
            for (String target : targets) {
                for (int seq = 0; seq < count; seq++) {
                    assertEquals(1, outcomes.getOrDefault(agent + "/" + target + "#" + seq, 0),
                            "outcomes of " + agent + "/" + target + " seq " + seq);
                }
            }
        }
        assertEquals(agents.size() * targets.size() * count, outcomes.size(), "no outcome for a probe never asked for");
    }

    @Test
    void twoAgentsStreamTheirResultsIntoOneTask() throws Exception {
        String a1 = agentName("agent-1");
        String a2 = agentName("agent-2");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0); AgentMain first = agent(hub, a1); AgentMain second = agent(hub, a2)) {
            awaitRegistered(hub, a1, a2);
            List<JsonNode> events = run(hub, "{\"from\":[\"" + a1 + "\",\"" + a2 + "\",\"hub\"],"
                    + "\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":5,\"interval\":100}");
            assertEquals("task", events.getFirst().get("type").asText());
            assertEquals("end", events.getLast().get("type").asText());
            assertExactlyOnce(events, List.of(a1, a2, "hub"), List.of("127.0.0.1", "::1"), 5);
            assertEquals(30, ofType(events, "pkt_recv").size());
            assertEquals(6, ofType(events, "ping_stats").size(), "one per (agent, target)");
            Set<String> pairs = new HashSet<>();
            ofType(events, "ping_stats").forEach(s -> pairs.add(s.get("metadata").get("from").asText() + "/"
                    + s.get("data").get("target").asText()));
            assertEquals(6, pairs.size(), pairs.toString());
            JsonNode end = events.getLast().get("data");
            assertEquals(30, end.get("sent").asInt());
            assertEquals(30, end.get("received").asInt());
            assertEquals(0, end.get("errors").asInt());
            List<Long> cursors = events.stream().map(e -> e.get("metadata").get("cursor").asLong()).toList();
            for (int i = 0; i < cursors.size(); i++) {
                assertEquals(i, cursors.get(i), "cursor of line " + i);
            }
            awaitNothingUnacknowledged(first);
            awaitNothingUnacknowledged(second);
        }
    }

    @Test
    void unknownAndOfflineAgentsGetAnErrorAtOnceWhileTheRestRuns() throws Exception {
        String live = agentName("live");
        String gone = agentName("gone");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0); AgentMain agent = agent(hub, live)) {
            // An agent whose queue exists but nobody consumes it: killed without a clean stop.
            try (Broker broker = Broker.connect(TestHub.BROKER_URL, "test-offline"); var channel = broker.connection().createChannel()) {
                Topology.declareAgent(channel, gone);
            }
            awaitRegistered(hub, live);
            long start = System.nanoTime();
            List<JsonNode> events = run(hub, "{\"from\":[\"nobody-" + live + "\",\"" + gone + "\",\"" + live + "\"],"
                    + "\"targets\":[\"127.0.0.1\"],\"count\":3,\"interval\":100}");
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            List<JsonNode> errors = ofType(events, "error");
            Map<String, String> codes = new HashMap<>();
            errors.forEach(e -> codes.put(e.get("data").get("agent").asText(), e.get("data").get("code").asText()));
            assertEquals(Map.of("nobody-" + live, "agent_unknown", gone, "agent_offline"), codes, errors.toString());
            // at once: while the live agent pings (its probes leave 100 ms apart), not at the task's end
            List<JsonNode> replies = ofType(events, "pkt_recv");
            errors.forEach(e -> assertTrue(events.indexOf(e) < events.indexOf(replies.getLast()), e.toString()));
            assertExactlyOnce(events, List.of(live), List.of("127.0.0.1"), 3);
            assertTrue(tookMs < 3_000, "the task did not wait for the absent agents: " + tookMs + " ms");
            assertEquals(2, events.getLast().get("data").get("errors").asInt());
        } finally {
            try (Broker broker = Broker.connect(TestHub.BROKER_URL, "test-offline-cleanup"); var channel = broker.connection().createChannel()) {
                channel.queueDelete(Topology.agentQueue(gone));
            }
        }
    }

    /**
     * An agent played by hand: registered over /ws (the test's WebSocket client), its queue declared and
     * consumed by the test, its reports published by the test.
     */
    private static final class StandIn implements AutoCloseable {

        final String name;
        final BlockingQueue<Command> commands = new LinkedBlockingQueue<>();
        private final CompletableFuture<String> replyTo = new CompletableFuture<>();
        private final WsClient ws;
        private final Broker broker;
        private final Channel channel;

        StandIn(TestHub hub, String name) throws Exception {
            this.name = name;
            broker = Broker.connect(TestHub.BROKER_URL, "test-stand-in-" + name);
            channel = broker.connection().createChannel();
            ws = new WsClient(URI.create("ws://" + hub.addr() + "/ws"));
            assertEquals("registered", ws.register(name, null).get("type").asText());
        }

        /** Declares its queue and takes commands from it, as an agent does once registered. */
        void takeCommands() throws IOException {
            Topology.declareAgent(channel, name);
            channel.basicConsume(Topology.agentQueue(name), true, new DefaultConsumer(channel) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                    Command command = WireCodec.decodeCommand(body);
                    if (command instanceof Command.Run) {
                        replyTo.complete(properties.getReplyTo());
                    }
                    commands.add(command);
                }
            });
        }

        Command.Run task() throws InterruptedException {
            Command command = commands.poll(5, TimeUnit.SECONDS);
            assertTrue(command instanceof Command.Run, "the task reached the agent's queue: " + command);
            return (Command.Run) command;
        }

        void report(Report report) throws IOException {
            channel.basicPublish("", replyTo.join(), true, Topology.streamProperties().build(), WireCodec.encode(report));
        }

        @Override
        public void close() throws Exception {
            ws.close();
            channel.queueDelete(Topology.agentQueue(name));
            channel.close();
            broker.close();
        }
    }

    @Test
    void aTaskSentJustAfterRegistrationWaitsForTheAgentsConsumer() throws Exception {
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0);
             StandIn agent = new StandIn(hub, agentName("late"));
             ExecutorService client = Executors.newVirtualThreadPerTaskExecutor()) {
            // Registered over /ws, its queue consumer not started yet (an agent starts it once registered).
            Instant posted = Instant.now();
            Future<List<JsonNode>> stream = client.submit(() -> run(hub, "{\"from\":[\"" + agent.name
                    + "\",\"hub\"],\"targets\":[\"127.0.0.1\"],\"count\":1,\"timeout\":500}"));
            Thread.sleep(600);
            agent.takeCommands();
            agent.task();
            // This stand-in agent never answers: the stream ends with agent_lost, not agent_unknown/offline.
            List<JsonNode> events = stream.get(30, TimeUnit.SECONDS);
            List<JsonNode> errors = ofType(events, "error");
            assertEquals(1, errors.size(), errors.toString());
            assertEquals("agent_lost", errors.getFirst().get("data").get("code").asText(), errors.toString());
            // the wait for that agent held up no other side: the hub's own probe left at once
            Instant hubProbe = Instant.parse(ofType(events, "pkt_recv").getFirst().get("data").get("sent_at").asText());
            assertTrue(Duration.between(posted, hubProbe).toMillis() < 450, "the hub's probe left at " + hubProbe
                    + ", the task was posted at " + posted);
        }
    }

    /** The hub's half of the result-stream protocol, with the agent played by hand on the real broker. */
    @Test
    void theHubAcknowledgesAStreamAsItComesAgainForACopyAndCancelsWhatItNoLongerFollows() throws Exception {
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0);
             StandIn agent = new StandIn(hub, agentName("by-hand"));
             ExecutorService client = Executors.newVirtualThreadPerTaskExecutor()) {
            agent.takeCommands();
            Future<List<JsonNode>> stream = client.submit(() -> run(hub, "{\"from\":[\"" + agent.name
                    + "\"],\"targets\":[\"127.0.0.1\"],\"count\":1,\"timeout\":500}"));
            String taskId = agent.task().task().id();
            Report.Batch batch = new Report.Batch(taskId, agent.name, 0, List.of(new Reply("127.0.0.1",
                    InetAddress.getByName("127.0.0.1"), 0, 64, 64, 7, 50_000, Instant.now(), Reply.Kind.FIRST)));

            agent.report(batch);
            assertEquals(new Command.Ack(Map.of(taskId, 1L)), agent.commands.poll(2, TimeUnit.SECONDS),
                    "batch 0 acknowledged");
            agent.report(batch); // a copy, as after a restart that dropped the acknowledgement
            assertEquals(new Command.Ack(Map.of(taskId, 1L)), agent.commands.poll(2, TimeUnit.SECONDS),
                    "acknowledged again");
            agent.report(end(taskId, agent.name, 1));
            assertEquals(new Command.Ack(Map.of(taskId, 2L)), agent.commands.poll(2, TimeUnit.SECONDS),
                    "the whole stream");
            List<JsonNode> events = stream.get(10, TimeUnit.SECONDS);
            assertEquals(List.of("task", "pkt_recv", "end"), events.stream().map(e -> e.get("type").asText()).toList());

            agent.report(batch); // the run is over: the agent is told to stop and forget it
            Command after = agent.commands.poll(2, TimeUnit.SECONDS);
            assertTrue(after instanceof Command.Cancel cancel && cancel.taskId().equals(taskId), String.valueOf(after));
            assertNull(agent.commands.poll(300, TimeUnit.MILLISECONDS), "nothing more");
        }
    }

    /** Acknowledgements of many streams of one agent travel together: one message a tick, not one a stream. */
    @Test
    void theHubAcknowledgesAllStreamsOfAnAgentInOneMessage() throws Exception {
        int tasks = 20;
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0);
             StandIn agent = new StandIn(hub, agentName("many"));
             ExecutorService client = Executors.newVirtualThreadPerTaskExecutor()) {
            agent.takeCommands();
            List<Future<List<JsonNode>>> streams = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                streams.add(client.submit(() -> run(hub, "{\"from\":[\"" + agent.name
                        + "\"],\"targets\":[\"127.0.0.1\"],\"count\":1,\"timeout\":500}")));
            }
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                ids.add(agent.task().task().id());
            }
            for (String id : ids) {
                agent.report(new Report.Batch(id, agent.name, 0, List.of()));
            }
            Map<String, Long> acked = new HashMap<>();
            int messages = 0;
            while (acked.size() < tasks) {
                Command command = agent.commands.poll(2, TimeUnit.SECONDS);
                assertTrue(command instanceof Command.Ack, "an acknowledgement, got " + command + " after " + acked);
                acked.putAll(((Command.Ack) command).received());
                messages++;
            }
            assertEquals(ids.stream().collect(java.util.stream.Collectors.toMap(id -> id, id -> 1L)), acked);
            assertTrue(messages <= 4, tasks + " streams acknowledged in " + messages + " messages");
            for (String id : ids) {
                agent.report(end(id, agent.name, 0));
            }
            for (Future<List<JsonNode>> stream : streams) {
                assertEquals("end", stream.get(10, TimeUnit.SECONDS).getLast().get("type").asText());
            }
        }
    }

    /** The end of a stream of one batch, with {@code replies} replies to as many probes. */
    private static Report.End end(String taskId, String agent, int replies) {
        return new Report.End(taskId, agent, new TaskTotals(replies, replies, 0, 0, Duration.ofMillis(5)), 1);
    }

    @Test
    void aKilledAgentEndsTheStreamWithAgentLostNamingItsUnansweredProbes() throws Exception {
        String name = agentName("doomed");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0); ChildJvm agent = hub.agentProcess(name)) {
            awaitRegistered(hub, name);
            try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(hub.addr().split(":")[1]))) {
                String body = "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],\"count\":50,\"interval\":100}";
                OutputStream out = socket.getOutputStream();
                out.write(("POST /ping-task HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length() + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                List<JsonNode> events = new ArrayList<>();
                long killedAt = 0;
                String line;
                while ((line = in.readLine()) != null) {
                    String json = line.strip();
                    if (!json.startsWith("{")) {
                        continue;
                    }
                    JsonNode event = JSON.readTree(json);
                    events.add(event);
                    if (killedAt == 0 && ofType(events, "pkt_recv").size() == 5) {
                        killedAt = System.nanoTime();
                        agent.kill();
                    }
                    if (event.get("type").asText().equals("end")) {
                        break;
                    }
                }
                long endedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                assertTrue(killedAt > 0, "the agent sent results before it was killed");
                assertEquals("end", events.getLast().get("type").asText(), "the stream ends");
                assertTrue(endedMs <= 2 * HEARTBEAT.multipliedBy(3).toMillis(),
                        "agent_lost within 2x the heartbeat timeout, took " + endedMs + " ms");
                List<JsonNode> lost = ofType(events, "error");
                assertEquals(1, lost.size(), lost.toString());
                JsonNode data = lost.getFirst().get("data");
                assertEquals("agent_lost", data.get("code").asText());
                assertEquals(name, data.get("agent").asText());
                assertEquals("127.0.0.1", data.get("target").asText());
                long answered = ofType(events, "pkt_recv").size() + ofType(events, "pkt_timeout").size();
                String unanswered = data.get("message").asText();
                assertTrue(unanswered.contains("unanswered seqs: " + answered + "-49"),
                        "names the unanswered seqs " + answered + "-49: " + unanswered);
            }
        }
    }

    @Test
    void aClientThatGoesAwayCancelsTheTaskAtTheAgent() throws Exception {
        String name = agentName("cancel");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0); AgentMain agent = agent(hub, name)) {
            awaitRegistered(hub, name);
            try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(hub.addr().split(":")[1]))) {
                String body = "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],\"count\":1000,\"interval\":20}";
                socket.getOutputStream().write(("POST /ping-task HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !line.contains("pkt_recv")) {
                    // wait for the agent's first result
                }
                assertEquals(1, agent.runningTasks(), "the agent runs the task");
            }
            long closed = System.nanoTime();
            await("the agent to stop the task", Duration.ofSeconds(3), () -> agent.runningTasks() == 0);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closed);
            assertTrue(ms < 1_500, "cancel reached the agent within ~1 s of the client leaving: " + ms + " ms");
        }
    }

    /**
     * A task cancelled with DELETE still tells what each (agent, target) measured until then, as a task of the
     * hub's own does: its {@code ping_stats} come before the {@code cancelled} error, and the counts add up.
     */
    @Test
    void aCancelledTaskReportsWhatEachAgentsTargetsMeasured() throws Exception {
        String a1 = agentName("stats-1");
        String a2 = agentName("stats-2");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0); AgentMain first = agent(hub, a1);
             AgentMain second = agent(hub, a2); StreamClients clients = new StreamClients(hub.server.port())) {
            awaitRegistered(hub, a1, a2);
            String id = clients.start("{\"from\":[\"" + a1 + "\",\"" + a2 + "\",\"hub\"],"
                    + "\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":1000,\"interval\":50}");
            await("replies from every side", Duration.ofSeconds(10), () -> {
                JsonNode page = StreamClients.json(clients.send("GET", "/tasks/" + id + "/events", null).body());
                Set<String> from = new HashSet<>();
                page.get("events").forEach(e -> {
                    if (StreamClients.type(e).equals("pkt_recv")) {
                        from.add(e.get("metadata").get("from").asText());
                    }
                });
                return from.equals(Set.of(a1, a2, "hub"));
            });
            HttpResponse<String> deleted = clients.send("DELETE", "/tasks/" + id, null); // returns at the task's end
            assertEquals(200, deleted.statusCode(), deleted.body());

            List<JsonNode> events = clients.longPoll(id, 0);
            List<String> types = events.stream().map(StreamClients::type).toList();
            assertEquals(List.of("error", "end"), types.subList(types.size() - 2, types.size()), types.toString());
            assertEquals(1, ofType(events, "error").size(), "the agents reported in time (no agent_lost): "
                    + ofType(events, "error"));
            assertEquals("cancelled", events.get(events.size() - 2).get("data").get("code").asText());
            List<JsonNode> stats = ofType(events, "ping_stats");
            Set<String> pairs = new HashSet<>();
            long sent = 0;
            for (JsonNode s : stats) {
                pairs.add(s.get("metadata").get("from").asText() + "/" + s.get("data").get("target").asText());
                assertTrue(s.get("data").get("packets_recv").asLong() >= 1, s.toString());
                sent += s.get("data").get("packets_sent").asLong();
            }
            assertEquals(Set.of(a1 + "/127.0.0.1", a1 + "/::1", a2 + "/127.0.0.1", a2 + "/::1", "hub/127.0.0.1",
                    "hub/::1"), pairs, "one ping_stats per (side, target)");
            assertEquals(6, stats.size(), stats.toString());
            JsonNode end = events.getLast().get("data");
            assertEquals(sent, end.get("sent").asLong(), "the end counts what the statistics count: " + end);
            assertTrue(end.get("sent").asLong() < 6 * 1000, end.toString());
            await("the agents to stop the task", Duration.ofSeconds(3),
                    () -> first.runningTasks() == 0 && second.runningTasks() == 0);
            awaitNothingUnacknowledged(first);
            awaitNothingUnacknowledged(second);
        }
    }

    /**
     * The hub's half of a cancel, with the agent played by hand: the agent is asked to report, and its last
     * reports are streamed; an agent that sends none holds the stream up no longer than the grace, is named
     * in an {@code agent_lost} error, and is then told, once, that the hub no longer follows the run.
     */
    @Test
    void aCancelledRunWaitsBrieflyForItsAgentsLastReports() throws Exception {
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0);
             StandIn agent = new StandIn(hub, agentName("cancel-by-hand"));
             StreamClients clients = new StreamClients(hub.server.port());
             ExecutorService client = Executors.newVirtualThreadPerTaskExecutor()) {
            agent.takeCommands();
            String body = "{\"from\":[\"" + agent.name + "\"],\"targets\":[\"127.0.0.1\"],\"count\":100}";

            String id = clients.start(body);
            assertEquals(id, agent.task().task().id());
            Future<HttpResponse<String>> deleted = client.submit(() -> clients.send("DELETE", "/tasks/" + id, null));
            assertEquals(new Command.Cancel(id, "the task was cancelled at hub " + hub.id, true),
                    agent.commands.poll(2, TimeUnit.SECONDS), "asked to stop and report");
            agent.report(new Report.Batch(id, agent.name, 0, List.of(new TargetStats("127.0.0.1",
                    InetAddress.getByName("127.0.0.1"), 3, 2, 0, List.of(40_000L, 60_000L), List.of(64, 64)))));
            agent.report(new Report.End(id, agent.name, new TaskTotals(3, 2, 0, 0, Duration.ofMillis(250)), 1));
            assertEquals(200, deleted.get(10, TimeUnit.SECONDS).statusCode());
            List<JsonNode> events = clients.longPoll(id, 0);
            assertEquals(List.of("task", "ping_stats", "error", "end"), events.stream().map(StreamClients::type).toList());
            assertEquals(3, events.getLast().get("data").get("sent").asLong(), "the agent's count");
            Command ack = agent.commands.poll(2, TimeUnit.SECONDS);
            if (ack instanceof Command.Ack(Map<String, Long> received) && received.equals(Map.of(id, 1L))) {
                ack = agent.commands.poll(2, TimeUnit.SECONDS); // the 100 ms tick came between batch 0 and the end
            }
            assertEquals(new Command.Ack(Map.of(id, 2L)), ack, "the whole stream acknowledged");

            String silent = clients.start(body);
            assertEquals(silent, agent.task().task().id());
            long asked = System.nanoTime();
            Future<HttpResponse<String>> waited = client.submit(() -> clients.send("DELETE", "/tasks/" + silent, null));
            assertTrue(agent.commands.poll(2, TimeUnit.SECONDS) instanceof Command.Cancel c && c.report());
            assertEquals(200, waited.get(10, TimeUnit.SECONDS).statusCode());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
            assertTrue(ms >= Dispatcher.CANCEL_GRACE.toMillis() - 50 && ms < 3 * Dispatcher.CANCEL_GRACE.toMillis(),
                    "held up for the grace only: " + ms + " ms");
            List<JsonNode> given = clients.longPoll(silent, 0);
            assertEquals(List.of("task", "error", "error", "end"), given.stream().map(StreamClients::type).toList());
            JsonNode lost = given.get(1);
            assertEquals("agent_lost", lost.get("data").get("code").asText(), lost.toString());
            assertEquals(agent.name, lost.get("data").get("agent").asText(), lost.toString());
            assertTrue(lost.get("data").get("message").asText().contains("did not end the cancelled task"), lost.toString());
            assertEquals("cancelled", given.get(2).get("data").get("code").asText());
            assertEquals(2, given.getLast().get("data").get("errors").asInt());
            assertEquals(new Command.Cancel(silent, "hub " + hub.id + " no longer follows the task", false),
                    agent.commands.poll(2, TimeUnit.SECONDS), "given up: the agent may forget it");
            agent.report(new Report.End(silent, agent.name, new TaskTotals(0, 0, 0, 0, Duration.ofMillis(5)), 0));
            assertNull(agent.commands.poll(500, TimeUnit.MILLISECONDS), "told once; a late report changes nothing");
        }
    }

    /**
     * Two agents of one name at two hubs: tasks for the name would go to either machine, and acknowledgements
     * to the wrong one. The second takes no task, leaves its hub saying why (its health says it too), and
     * takes over once the first is gone.
     */
    @Test
    void aSecondAgentOfANameAtAnotherHubTakesNoTasksUntilTheFirstIsGone() throws Exception {
        String name = agentName("twin");
        try (TestHub a = new TestHub(engine, HEARTBEAT, 0); TestHub b = new TestHub(engine, HEARTBEAT, 0)) {
            AgentMain first = agent(a, name);
            awaitRegistered(a, name);
            String queue = Topology.agentQueue(name);
            await("the first to take its tasks", Duration.ofSeconds(5), () -> RabbitMq.consumers(queue) == 1);
            try (AgentMain twin = agent(b, name)) {
                await("the twin to say why it is not registered", Duration.ofSeconds(10), () -> get(
                        "http://" + twin.controlAddress() + "/health/ready").contains("another agent named '" + name
                        + "' takes the tasks of mimoping.agent." + name + " on this broker"));
                assertEquals(1, RabbitMq.consumers(queue), "one process takes the name's tasks");
                assertTrue(b.registry.find(name).isEmpty(), "hub B does not list the twin");
                for (int i = 0; i < 3; i++) {
                    List<JsonNode> events = run(b, "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],"
                            + "\"count\":2,\"interval\":20}");
                    assertExactlyOnce(events, List.of(name), List.of("127.0.0.1"), 2);
                }
                assertEquals(0, Double.parseDouble(metric(twin, "mimoping_engine_tasks_total")), "the twin ran none");
                awaitNothingUnacknowledged(first);

                first.close();
                await("the twin to take over", Duration.ofSeconds(40), () -> b.registry.find(name).isPresent()
                        && RabbitMq.consumers(queue) == 1);
                assertExactlyOnce(run(b, "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],\"count\":2,"
                        + "\"interval\":20}"), List.of(name), List.of("127.0.0.1"), 2);
            } finally {
                first.close();
            }
        }
    }

    @Test
    void anAgentRegisteredAtOneHubServesATaskSentToAnother() throws Exception {
        String name = agentName("shared");
        try (TestHub a = new TestHub(engine, HEARTBEAT, 0); TestHub b = new TestHub(engine, HEARTBEAT, 0);
             AgentMain agent = agent(a, name)) {
            awaitRegistered(a, name);
            assertTrue(b.registry.find(name).isEmpty(), "hub B never saw the agent register");
            List<JsonNode> events = run(b, "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\",\"::1\"],"
                    + "\"count\":3,\"interval\":50}");
            assertExactlyOnce(events, List.of(name), List.of("127.0.0.1", "::1"), 3);
            assertEquals(0, events.getLast().get("data").get("errors").asInt());
        }
    }

    @Test
    void aBrokerRestartMidTaskLosesNothingConfirmedAndCountsNothingTwice() throws Exception {
        String name = agentName("restart");
        try (TestHub hub = new TestHub(engine, Duration.ofSeconds(5), 0); AgentMain agent = agent(hub, name)) {
            awaitRegistered(hub, name);
            Thread restart = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(1_000);
                    RabbitMq.ctl("stop_app");
                    Thread.sleep(1_000);
                    RabbitMq.ctl("start_app");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<JsonNode> events = run(hub, "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\",\"::1\"],"
                    + "\"count\":40,\"interval\":100}");
            restart.join();
            // no agent_lost: the reports the restart dropped were published again, and the hub kept one copy
            assertExactlyOnce(events, List.of(name), List.of("127.0.0.1", "::1"), 40);
            assertEquals(0, events.getLast().get("data").get("errors").asInt(), events.getLast().toString());
            awaitNothingUnacknowledged(agent);
        } finally {
            RabbitMq.ctl("start_app");
        }
    }

    @Test
    void nothingIsLeftOnTheBrokerAfterACleanStop() throws Exception {
        String name = agentName("tidy");
        String hubQueue;
        try (TestHub hub = new TestHub(engine, HEARTBEAT, 0); AgentMain agent = agent(hub, name)) {
            hubQueue = hub.dispatcher.replyQueue();
            awaitRegistered(hub, name);
            run(hub, "{\"from\":[\"" + name + "\"],\"targets\":[\"127.0.0.1\"],\"count\":2,\"interval\":10}");
        }
        String queues = RabbitMq.ctl("list_queues", "name");
        assertFalse(queues.contains(Topology.agentQueue(name)), queues);
        assertFalse(queues.contains(hubQueue), queues);
        String consumers = RabbitMq.ctl("list_consumers", "queue_name");
        assertFalse(consumers.contains(name), consumers);
    }

}
