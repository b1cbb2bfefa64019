package io.mimoping.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;

import java.io.IOException;
import java.util.Map;

/**
 * Every exchange, queue and binding mimoping uses, declared in this one place.
 *
 * <ul>
 *   <li>{@value #TASK_EXCHANGE}: a direct exchange; an agent's queue is bound to it under the agent's name,
 *       so a hub publishes a task with the agent's name as routing key (mandatory: no queue, no agent).</li>
 *   <li>{@code mimoping.agent.NAME}: one agent's commands (tasks and cancels).</li>
 *   <li>{@code mimoping.hub.ID}: one hub's reply queue; agents publish reports to it through the default
 *       exchange, as the task's {@code reply-to} says.</li>
 * </ul>
 * Queues are durable. Tasks and cancels are persistent messages, so a broker restart loses none confirmed.
 * Result streams (reports and the hub's acknowledgements of them) are transient: no disk write per batch;
 * instead the agent keeps every report until the hub acknowledges it and publishes the unacknowledged ones
 * again after a broker restart. Every queue expires once unused for {@link #QUEUE_EXPIRY_MS}, so none
 * outlives its owner for long.
 */
public final class Topology {

    public static final String TASK_EXCHANGE = "mimoping.tasks";
    /** An unused queue (no consumer, no access) is deleted after this long. */
    public static final int QUEUE_EXPIRY_MS = 60_000;

    private static final int TRANSIENT = 1;
    private static final int PERSISTENT = 2;
    private static final Map<String, Object> EXPIRING = Map.of("x-expires", QUEUE_EXPIRY_MS);

    private Topology() {
    }

    /** The queue of an agent's commands. */
    public static String agentQueue(String agent) {
        return "mimoping.agent." + agent;
    }

    /** The reply queue of a hub. */
    public static String hubQueue(String hubId) {
        return "mimoping.hub." + hubId;
    }

    /**
     * Declares the task exchange and an agent's queue, bound under the agent's name.
     *
     * @return how many consumers the queue has now
     */
    public static int declareAgent(Channel channel, String agent) throws IOException {
        channel.exchangeDeclare(TASK_EXCHANGE, BuiltinExchangeType.DIRECT, true);
        int consumers = channel.queueDeclare(agentQueue(agent), true, false, false, EXPIRING).getConsumerCount();
        channel.queueBind(agentQueue(agent), TASK_EXCHANGE, agent);
        return consumers;
    }

    /** Declares the task exchange and a hub's reply queue. */
    public static void declareHub(Channel channel, String hubId) throws IOException {
        channel.exchangeDeclare(TASK_EXCHANGE, BuiltinExchangeType.DIRECT, true);
        channel.queueDeclare(hubQueue(hubId), true, false, false, EXPIRING);
    }

    /** Properties of tasks and cancels: persistent protobuf. */
    public static AMQP.BasicProperties.Builder properties() {
        return protobuf(PERSISTENT);
    }

    /** Properties of a result stream's messages (reports, acknowledgements): transient protobuf. */
    public static AMQP.BasicProperties.Builder streamProperties() {
        return protobuf(TRANSIENT);
    }

    private static AMQP.BasicProperties.Builder protobuf(int deliveryMode) {
        return new AMQP.BasicProperties.Builder().contentType("application/x-protobuf").deliveryMode(deliveryMode);
    }
}
