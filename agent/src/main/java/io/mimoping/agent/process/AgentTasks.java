package io.mimoping.agent.process;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.BrokerException;
import io.mimoping.bridge.amqp.ConfirmingPublisher;
import io.mimoping.bridge.amqp.RecentKeys;
import io.mimoping.bridge.amqp.Topology;
import io.mimoping.bridge.wire.Command;
import io.mimoping.bridge.wire.Report;
import io.mimoping.bridge.wire.WireCodec;
import io.mimoping.bridge.wire.WireException;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's side of the broker: consumes its own command queue, runs each task on the engine and
 * reports through a {@link TaskReporter}; obeys cancels; stops a task whose hub's reply queue is gone.
 * Each task's reports are kept until the hub acknowledges them, and published again after the broker
 * connection recovers (a broker restart drops transient messages it had confirmed).
 */
final class AgentTasks implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentTasks.class.getName());
    /** Task ids remembered so that a command delivered again after a broker failover runs once. */
    private static final int REMEMBERED = 10_000;
    /**
     * Reports unacknowledged this long mean the hub stopped following the task (it is gone, or gave the
     * agent up as lost): the task stops and its reports are dropped. As long as an unused queue lives.
     */
    static final Duration UNACKNOWLEDGED_LIMIT = Duration.ofMillis(Topology.QUEUE_EXPIRY_MS);
    /**
     * A report unacknowledged this long (the hub acknowledges every 100 ms) was lost on the way without the
     * connection dropping, or the hub has stopped: the unacknowledged ones go out again, once.
     */
    static final Duration REPUBLISH_AFTER = Duration.ofSeconds(5);
    /**
     * A task whose reports go unacknowledged is checked on: when its hub's queue has had no consumer for this
     * long (the hub was killed; the queue lives on for {@link #UNACKNOWLEDGED_LIMIT}), the task stops. Long
     * enough for the hub's consumer to come back after a broker restart (the connection retries every second).
     */
    static final Duration HUB_GONE_AFTER = Duration.ofSeconds(10);
    private static final Duration SWEEP_EVERY = Duration.ofSeconds(1);

    private final String agent;
    private final ProbeEngine engine;
    private final Duration republishAfter;
    private final Duration hubGoneAfter;
    private final Consumer<String> cannotServe;
    private final ConfirmingPublisher publisher;
    /** Takes commands; opened again if the broker closed it (a refused consume). Set under this. */
    private volatile Channel channel;
    private final Broker broker;
    private final Map<String, RunningTask> running = new ConcurrentHashMap<>();
    /** Reporters of tasks whose reports the hub has not all acknowledged yet (running or not). */
    private final Map<String, TaskReporter> reporters = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper =
            Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("mimoping-report-sweeper").factory());
    private final RecentKeys seen = new RecentKeys(REMEMBERED);
    private String consumerTag;
    /** Whether this process took commands from the queue: only then may it delete it when it stops. */
    private boolean consumed;
    /** Set by {@link #stopTaking}: no consumer starts again. */
    private boolean stopped;

    /**
     * @param cannotServe told why, when the agent lost its queue's consumer and cannot take commands again (another
     *                    process of its name took the queue): the agent should leave its hub until it can
     */
    AgentTasks(String agent, ProbeEngine engine, Broker broker, Consumer<String> cannotServe) {
        this(agent, engine, broker, REPUBLISH_AFTER, HUB_GONE_AFTER, cannotServe);
    }

    /**
     * With reports published again after {@code republishAfter} without an acknowledgement, and a task stopped
     * once its hub's queue has had no consumer for {@code hubGoneAfter}.
     */
    AgentTasks(String agent, ProbeEngine engine, Broker broker, Duration republishAfter, Duration hubGoneAfter,
               Consumer<String> cannotServe) {
        this.agent = agent;
        this.cannotServe = cannotServe;
        this.republishAfter = republishAfter;
        this.hubGoneAfter = hubGoneAfter;
        this.engine = engine;
        this.broker = broker;
        this.publisher = new ConfirmingPublisher(broker, this::hubGone);
        this.channel = openChannel();
        broker.onRecovery(this::republish);
        sweeper.scheduleAtFixedRate(this::sweep, SWEEP_EVERY.toMillis(), SWEEP_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Channel openChannel() {
        try {
            Channel opened = broker.connection().createChannel();
            opened.basicQos(64);
            return opened;
        } catch (IOException e) {
            throw new BrokerException("cannot open a RabbitMQ channel: " + e.getMessage(), e);
        }
    }

    /**
     * Declares this agent's queue and starts taking commands from it, as its only consumer. Call once registered.
     *
     * @throws HubLink.NotReadyException if another process takes commands from the queue (an agent of the same
     *                                   name on this broker, registered with another hub: each hub refuses a
     *                                   second agent of a name itself), or the broker refused (or is reconnecting)
     */
    synchronized void start() {
        if (consumerTag != null || stopped) {
            return;
        }
        String queue = Topology.agentQueue(agent);
        try {
            if (!channel.isOpen()) {
                // closing the dead channel drops its consumer from what the connection recovers: else each
                // recovery would ask for it again
                abandon(channel);
                channel = openChannel();
            }
            if (Topology.declareAgent(channel, agent) > 0) {
                throw taken(queue);
            }
            // exclusive: of two agents of a name that get here at once, the broker refuses the second
            consumerTag = channel.basicConsume(queue, false, "mimoping-agent-" + agent, false, true, null,
                    new DefaultConsumer(channel) {
                        @Override
                        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties,
                                                   byte[] body) throws IOException {
                            handle(properties, body);
                            getChannel().basicAck(envelope.getDeliveryTag(), false);
                        }

                        @Override
                        public void handleCancel(String tag) {
                            // The broker ended the consumer: the queue was deleted (by an operator, or another
                            // process of the same name). Without it no task reaches this agent: declare it again.
                            LOG.warning(() -> "the queue " + queue + " was deleted under agent " + agent
                                    + "; declaring it again");
                            Thread.ofVirtual().name("mimoping-queue-again").start(() -> consumerCancelled(tag));
                        }
                    });
            consumed = true;
        } catch (HubLink.NotReadyException e) {
            throw e;
        } catch (IOException | RuntimeException e) { // a BrokerException too: no channel could be opened
            if (e instanceof IOException io && Broker.channelClosedWith(io, AMQP.ACCESS_REFUSED)) {
                throw taken(queue);
            }
            throw new HubLink.NotReadyException("cannot take tasks from " + queue + ": " + e.getMessage());
        }
        LOG.info(() -> "agent " + agent + " takes tasks from " + queue);
    }

    private static void abandon(Channel dead) {
        try {
            dead.abort();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "aborting a closed channel failed", e);
        }
    }

    private HubLink.NotReadyException taken(String queue) {
        return new HubLink.NotReadyException("another agent named '" + agent + "' takes the tasks of " + queue
                + " on this broker");
    }

    /** The broker cancelled consumer {@code tag}: takes commands again, unless this agent stopped taking them. */
    private synchronized void consumerCancelled(String tag) {
        if (tag.equals(consumerTag) && !stopped && channel.isOpen()) {
            takeAgain("its queue was deleted");
        }
    }

    /**
     * The command channel closed while the broker is connected: its consumer was refused when the connection
     * recovered (another process of this name took the queue meanwhile, or the broker still held this process's
     * old consumer). Takes commands again, or leaves the hub until it can.
     */
    private synchronized void checkConsumer() {
        if (consumerTag != null && !stopped && !channel.isOpen() && broker.isOpen()) {
            takeAgain("its command channel was closed");
        }
    }

    private void takeAgain(String why) {
        consumerTag = null;
        try {
            start();
        } catch (HubLink.NotReadyException e) {
            LOG.warning(() -> "agent " + agent + " lost its command consumer (" + why + "): " + e.getMessage()
                    + "; it leaves its hub until it can take tasks again");
            cannotServe.accept(e.getMessage());
        }
    }

    /** Takes no further command from the queue (the queue stays until {@link #close()}). */
    synchronized void stopTaking() {
        stopped = true;
        if (consumerTag == null || !channel.isOpen()) {
            return;
        }
        String tag = consumerTag;
        consumerTag = null;
        try {
            channel.basicCancel(tag);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "cancelling the command consumer failed", e);
        }
    }

    /** What the report publisher has seen, for metrics. */
    ConfirmingPublisher.Counts publishCounts() {
        return publisher.counts();
    }

    /** Reports, of all tasks, kept until the hub acknowledges them. */
    int unacknowledged() {
        return reporters.values().stream().mapToInt(TaskReporter::unacknowledged).sum();
    }

    /** Tasks running now. */
    int running() {
        return running.size();
    }

    private void handle(AMQP.BasicProperties properties, byte[] body) {
        Command command;
        try {
            command = WireCodec.decodeCommand(body);
        } catch (WireException e) {
            LOG.warning("dropping a malformed command: " + e.getMessage());
            return;
        }
        switch (command) {
            case Command.Run(var task) -> {
                if (properties.getReplyTo() == null) {
                    LOG.warning(() -> "dropping task " + task.id() + ": no reply-to queue");
                } else if (seen.add(task.id())) {
                    TaskReporter reporter = new TaskReporter(task.id(), agent, properties.getReplyTo(), publisher,
                            () -> running.remove(task.id()));
                    reporters.put(task.id(), reporter);
                    running.put(task.id(), engine.start(task, reporter));
                    LOG.fine(() -> "task " + task.id() + " started: " + task.targets().size() + " target(s)");
                }
            }
            case Command.Cancel(String taskId, String reason, boolean report) -> {
                seen.add(taskId);
                LOG.fine(() -> "task " + taskId + " cancelled: " + reason);
                if (report) {
                    cancel(taskId);
                } else {
                    stop(taskId);
                }
            }
            case Command.Ack(Map<String, Long> received) -> received.forEach((taskId, count) -> {
                TaskReporter reporter = reporters.get(taskId);
                if (reporter != null && reporter.acked(count)) {
                    reporters.remove(taskId);
                }
            });
        }
    }

    /** Stops the task if it runs; the hub still gets its reports: what each target measured, then the end. */
    private void cancel(String taskId) {
        RunningTask task = running.get(taskId);
        if (task != null) {
            task.cancel();
        }
    }

    /** Stops the task if it runs, and forgets its reports: the hub no longer follows it. */
    private void stop(String taskId) {
        cancel(taskId);
        TaskReporter reporter = reporters.remove(taskId);
        if (reporter != null) {
            reporter.discard();
        }
    }

    /**
     * Whether the reporter's hub queue has had no consumer, on every look a second apart, for {@link #hubGoneAfter}.
     * A look that cannot be made (the broker connection is recovering) breaks the series.
     */
    private boolean hubGone(TaskReporter reporter, Map<String, Boolean> hubsMissing) {
        Boolean missing = hubsMissing.computeIfAbsent(reporter.replyTo(), queue -> {
            try {
                return broker.consumers(queue) < 1;
            } catch (BrokerException e) {
                return null;
            }
        });
        return missing != null && reporter.hubMissing(missing, SWEEP_EVERY.multipliedBy(3)) >= hubGoneAfter.toNanos();
    }

    /** After the broker connection recovered: every report the hub has not acknowledged goes out again. */
    private void republish() {
        int waiting = unacknowledged();
        if (waiting > 0) {
            LOG.info(() -> "publishing " + waiting + " unacknowledged report(s) of " + reporters.size()
                    + " task(s) again after the broker connection recovered");
            reporters.values().forEach(TaskReporter::republish);
        }
    }

    /**
     * Reports waiting long for their acknowledgement: published again; their task stopped once its hub is seen
     * gone, or, much later, in any case.
     */
    private void sweep() {
        try {
            checkConsumer();
            Map<String, Boolean> hubsMissing = new HashMap<>(); // one look per hub queue and sweep
            reporters.forEach((taskId, reporter) -> sweep(taskId, reporter, hubsMissing));
        } catch (RuntimeException e) { // the next sweep must still run
            LOG.log(Level.WARNING, "the report sweep failed", e);
        }
    }

    private void sweep(String taskId, TaskReporter reporter, Map<String, Boolean> hubsMissing) {
        if (reporter.unacknowledgedFor(UNACKNOWLEDGED_LIMIT)) {
            LOG.warning(() -> "task " + taskId + " stopped: its hub acknowledged no report for "
                    + UNACKNOWLEDGED_LIMIT.toSeconds() + " s");
            stop(taskId);
            return;
        }
        if (reporter.waitingFor(republishAfter) && hubGone(reporter, hubsMissing)) {
            LOG.warning(() -> "task " + taskId + " stopped: its hub's queue " + reporter.replyTo()
                    + " has had no consumer for " + hubGoneAfter.toSeconds() + " s (the hub is gone)");
            stop(taskId);
            return;
        }
        int again = reporter.republishIfWaiting(republishAfter);
        if (again > 0) {
            LOG.info(() -> "task " + taskId + ": its hub acknowledged no report for " + republishAfter.toMillis()
                    + " ms; " + again + " unacknowledged report(s) published again");
        }
    }

    /** A report came back unroutable: the hub's reply queue is gone, so nobody waits for the task. */
    private void hubGone(String routingKey, AMQP.BasicProperties properties, byte[] body) {
        try {
            Report report = WireCodec.decodeReport(body);
            if (reporters.containsKey(report.taskId())) {
                LOG.info(() -> "task " + report.taskId() + " stopped: its hub's queue " + routingKey + " is gone");
                stop(report.taskId());
            }
        } catch (WireException e) {
            LOG.log(Level.FINE, "unreadable returned report", e);
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        running.values().forEach(RunningTask::cancel);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!running.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            if (!publisher.awaitConfirms(Duration.ofSeconds(5))) {
                LOG.warning(() -> publisher.pending() + " report(s) not confirmed by RabbitMQ at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopTaking();
        try {
            if (channel.isOpen()) {
                // A clean stop takes the queue along; after a crash it expires (Topology.QUEUE_EXPIRY_MS). Not the
                // queue of another process of this name, live while this one was refused: not if this one never
                // took from it, nor while another consumer does (the broker then refuses and closes the channel).
                if (consumed) {
                    channel.queueDelete(Topology.agentQueue(agent), true, false);
                }
                if (channel.isOpen()) {
                    channel.close();
                }
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.log(Level.FINE, "closing the command channel failed", e);
        }
        publisher.close();
    }
}
