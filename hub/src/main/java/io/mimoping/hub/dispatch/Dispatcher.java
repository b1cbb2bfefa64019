package io.mimoping.hub.dispatch;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.amqp.Broker;
import io.mimoping.bridge.amqp.BrokerException;
import io.mimoping.bridge.amqp.RecentKeys;
import io.mimoping.bridge.amqp.ConfirmingPublisher;
import io.mimoping.bridge.amqp.Topology;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.wire.Command;
import io.mimoping.bridge.wire.Report;
import io.mimoping.bridge.wire.WireCodec;
import io.mimoping.bridge.wire.WireException;
import io.mimoping.hub.ws.Agent;
import io.mimoping.hub.ws.AgentRegistry;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The hub's side of the broker: sends tasks and cancels to agents' queues and merges their reports,
 * from this hub's own reply queue, into the tasks' streams. Any agent consuming its queue on the same
 * broker can be used, whichever hub it registered with.
 *
 * <p>Told when an agent registered here drops its connection ({@link #onDropped}), it ends that agent's runs with
 * {@code agent_lost} at once if the agent takes no tasks either; otherwise a run is lost when its agent has sent
 * nothing about it for the silence given.
 */
public final class Dispatcher implements AgentRegistry.Listener, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Dispatcher.class.getName());
    /** How long a task waits for the queue consumer of an agent that has just registered here. */
    static final Duration CONSUMER_GRACE = Duration.ofSeconds(1);
    private static final Duration CONSUMER_POLL = Duration.ofMillis(20);
    /** How often each agent hears which of its reports this hub has (so that it can forget them). */
    static final Duration ACK_EVERY = Duration.ofMillis(100);
    /**
     * How long a cancelled run waits for its agent's last reports (what each target measured, and the end).
     * Well within the 2 s a stopping hub gives its streams to end.
     */
    static final Duration CANCEL_GRACE = Duration.ofSeconds(1);
    private static final int REMEMBERED = 10_000;

    private final String hubId;
    private final Broker broker;
    private final Duration silence;
    private final ConfirmingPublisher publisher;
    private final Channel consumer;
    private final Map<String, RemoteRun> runs = new ConcurrentHashMap<>();
    /** (task, agent) runs no longer followed whose agent was told to stop, the latest {@link #REMEMBERED}. */
    private final RecentKeys stopped = new RecentKeys(REMEMBERED);
    private final ScheduledExecutorService watchdog =
            Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("mimoping-agent-watchdog").factory());

    /**
     * @param silence how long an agent may send nothing about a running task before it is reported lost
     *                (agents send at least one message a second per task)
     */
    public Dispatcher(Broker broker, String hubId, Duration silence) {
        this.hubId = hubId;
        this.broker = broker;
        this.silence = silence;
        this.publisher = new ConfirmingPublisher(broker, this::returned);
        try {
            consumer = broker.connection().createChannel();
            consumer.basicQos(256);
            Topology.declareHub(consumer, hubId);
            consumer.basicConsume(Topology.hubQueue(hubId), false, "mimoping-hub-" + hubId, new DefaultConsumer(consumer) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
                        throws IOException {
                    report(body);
                    consumer.basicAck(envelope.getDeliveryTag(), false);
                }
            });
        } catch (IOException e) {
            throw new BrokerException("cannot set up the hub's reply queue: " + e.getMessage(), e);
        }
        long tick = Math.max(50, silence.toMillis() / 10);
        watchdog.scheduleAtFixedRate(() -> runs.values().removeIf(run -> {
                    run.checkSilence(silence);
                    return run.finished();
                }),
                tick, tick, TimeUnit.MILLISECONDS);
        watchdog.scheduleAtFixedRate(this::acknowledgeAll, ACK_EVERY.toMillis(), ACK_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** What the task publisher has seen, for metrics. */
    public ConfirmingPublisher.Counts publishCounts() {
        return publisher.counts();
    }

    /** (task, agent) runs in progress now. */
    public int running() {
        return runs.size();
    }

    /** The reply queue this hub consumes. */
    public String replyQueue() {
        return Topology.hubQueue(hubId);
    }

    /**
     * A pinging side backed by the agent of this name.
     *
     * @param registeredHere whether the agent is registered with this hub: such an agent starts consuming its
     *                       queue just after it registered, so a task sent in between waits up to
     *                       {@link #CONSUMER_GRACE} for its consumer instead of failing at once
     */
    public ProbeEngine agent(String name, boolean registeredHere) {
        return new ProbeEngine() {
            @Override
            public RunningTask start(PingTask task, ProbeListener listener) {
                return dispatch(name, registeredHere, task, listener);
            }

            @Override
            public void close() {
                // Nothing to close: the agent lives in its own process.
            }
        };
    }

    private RemoteRun dispatch(String agent, boolean registeredHere, PingTask task, ProbeListener listener) {
        RemoteRun run = new RemoteRun(agent, task, listener, this::cancelled);
        // followed from now on: closing the hub ends it even while it waits for its agent's consumer
        runs.put(key(task.id(), agent), run);
        // The broker round trips, and the wait for a just-registered agent's consumer, must not hold up the
        // task's other sides: the run's events (a refusal too) reach the listener whenever they come.
        Thread.ofVirtual().name("mimoping-dispatch-" + agent).start(() -> give(run, registeredHere));
        return run;
    }

    /** Checks the agent takes tasks and gives it the task, or refuses the run saying why not. */
    private void give(RemoteRun run, boolean registeredHere) {
        String agent = run.agent();
        try {
            int consumers = consumers(agent);
            long deadline = System.nanoTime() + CONSUMER_GRACE.toNanos();
            while (consumers < 1 && registeredHere && System.nanoTime() - deadline < 0) {
                Thread.sleep(CONSUMER_POLL.toMillis());
                consumers = consumers(agent);
            }
            if (consumers < 0) {
                run.refused(ErrorCode.AGENT_UNKNOWN, "no agent named '" + agent + "' is connected to the broker");
            } else if (consumers == 0) {
                run.refused(ErrorCode.AGENT_OFFLINE, "agent '" + agent + "' is not taking tasks (its queue has no consumer)");
            } else { // unless it was cancelled meanwhile, or the hub is closing
                run.dispatch(() -> send(agent, new Command.Run(run.task())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            run.refused(ErrorCode.AGENT_OFFLINE, "interrupted while waiting for agent '" + agent + "' to take tasks");
        } catch (RuntimeException e) { // BrokerException mostly: nothing may leave the run unanswered
            run.refused(ErrorCode.AGENT_OFFLINE, "cannot reach agent '" + agent + "': " + e.getMessage());
        }
    }

    /**
     * An agent that left saying goodbye has ended its tasks first (they end with {@code engine_stopped}); one
     * forgotten for silence is lost when its runs hear nothing for the same time.
     */
    @Override
    public void onLeft(Agent agent, String reason) {
    }

    /**
     * The agent's connection to this hub dropped. Its process may have died, or only that connection was cut while
     * it goes on running its tasks: its runs end with {@code agent_lost} now if its task queue has no consumer,
     * and are otherwise followed as before. Nothing is asked of the broker for an agent with no run here.
     */
    @Override
    public void onDropped(Agent agent, String reason) {
        String name = agent.name();
        if (runs.values().stream().anyMatch(run -> run.agent().equals(name))) {
            Thread.ofVirtual().name("mimoping-dropped-" + name).start(() -> loseIfNotConsuming(name));
        }
    }

    /**
     * Ends the agent's runs with {@code agent_lost} once its queue has no consumer, looking for up to
     * {@link #CONSUMER_GRACE}: the broker may see the agent's connection end a little after this hub saw its own.
     */
    private void loseIfNotConsuming(String agent) {
        long deadline = System.nanoTime() + CONSUMER_GRACE.toNanos();
        try {
            while (consumers(agent) > 0) {
                if (System.nanoTime() - deadline > 0) {
                    LOG.fine(() -> "agent '" + agent + "' dropped its connection to this hub but still takes tasks:"
                            + " its runs go on");
                    return;
                }
                Thread.sleep(CONSUMER_POLL.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (BrokerException e) {
            LOG.fine(() -> "cannot tell whether agent '" + agent + "' still takes tasks (" + e.getMessage()
                    + "): its runs are lost if it stays silent");
            return;
        }
        String why = "its connection to the hub dropped and its task queue has no consumer";
        runs.values().removeIf(run -> {
            if (!run.agent().equals(agent)) {
                return false;
            }
            run.lost(why);
            return true;
        });
    }

    /** Whether the agent's queue has its consumer: the agent takes tasks. */
    public boolean consuming(String agent) {
        return consumers(agent) > 0;
    }

    /** Consumers on the agent's queue, or -1 if the queue does not exist. */
    private int consumers(String agent) {
        return broker.consumers(Topology.agentQueue(agent));
    }

    private void report(byte[] body) {
        Report report;
        try {
            report = WireCodec.decodeReport(body);
        } catch (WireException e) {
            LOG.warning("dropping a malformed report: " + e.getMessage());
            return;
        }
        RemoteRun run = runs.get(key(report.taskId(), report.from()));
        if (run == null) {
            // The run ended here (complete, cancelled or given up as lost): the agent may stop and forget it.
            forget(report.from(), report.taskId());
            return;
        }
        run.accept(report);
        if (run.finished()) {
            runs.remove(key(report.taskId(), report.from()));
            acknowledge(run);
        }
    }

    /** A run complete: its agent may forget it at once. */
    private void acknowledge(RemoteRun run) {
        run.ackDue().ifPresent(received -> send(run.agent(), new Command.Ack(Map.of(run.taskId(), received))));
    }

    /** One acknowledgement per agent, for all its runs that took batches in since the last one. */
    private void acknowledgeAll() {
        Map<String, Map<String, Long>> byAgent = new HashMap<>();
        runs.values().forEach(run -> run.ackDue().ifPresent(received ->
                byAgent.computeIfAbsent(run.agent(), agent -> new HashMap<>()).put(run.taskId(), received)));
        byAgent.forEach((agent, received) -> send(agent, new Command.Ack(received)));
    }

    /** The run was cancelled at the hub: its agent stops and reports what it measured, and the end. */
    private void cancelled(RemoteRun run) {
        send(run.agent(), new Command.Cancel(run.taskId(), "the task was cancelled at hub " + hubId, true));
        try {
            watchdog.schedule(() -> {
                if (run.giveUp(CANCEL_GRACE)) {
                    forget(run.agent(), run.taskId());
                }
                runs.remove(key(run.taskId(), run.agent()), run);
            }, CANCEL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) { // the hub is closing: the run ends now
            abandon(run);
        }
    }

    /** The hub stops following the run (if it has not ended yet); its agent stops it and forgets its reports. */
    private void abandon(RemoteRun run) {
        runs.remove(key(run.taskId(), run.agent()), run);
        if (run.abandon()) {
            forget(run.agent(), run.taskId());
        }
    }

    /**
     * Tells the agent to stop the task and forget its reports. Once per run: copies of its reports published
     * again after a broker restart would each ask for another.
     */
    private void forget(String agent, String taskId) {
        if (stopped.add(key(taskId, agent))) {
            send(agent, new Command.Cancel(taskId, "hub " + hubId + " no longer follows the task", false));
        }
    }

    /**
     * A command to an agent's queue: a task (mandatory: no queue, no agent) or a cancel, persistent; an
     * acknowledgement, transient as the streams it answers.
     */
    private void send(String agent, Command command) {
        AMQP.BasicProperties properties = switch (command) {
            case Command.Run run -> Topology.properties().replyTo(replyQueue()).correlationId(run.task().id()).build();
            case Command.Cancel cancel -> Topology.properties().correlationId(cancel.taskId()).build();
            case Command.Ack ack -> Topology.streamProperties().build();
        };
        publisher.publish(Topology.TASK_EXCHANGE, agent, command instanceof Command.Run, properties,
                WireCodec.encode(command));
    }

    /** A task came back unroutable: the agent's queue vanished between the check and the publish. */
    private void returned(String agent, AMQP.BasicProperties properties, byte[] body) {
        RemoteRun run = runs.remove(key(properties.getCorrelationId(), agent));
        if (run != null) {
            run.refused(ErrorCode.AGENT_OFFLINE, "agent '" + agent + "' has no task queue (not running)");
        }
    }

    private static String key(String taskId, String agent) {
        return taskId + "/" + agent;
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        runs.values().forEach(this::abandon);
        try {
            if (consumer.isOpen()) {
                consumer.queueDelete(replyQueue());
                consumer.close();
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.log(Level.FINE, "closing the reply channel failed", e);
        }
        publisher.close();
    }
}
