package io.mimoping.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Publishes with publisher confirms and keeps every message until the broker confirmed it: a message
 * not confirmed when the connection drops, or nacked, is published again once the connection is back.
 * Receivers must therefore tolerate a second copy (mimoping numbers its batches for that).
 * Thread-safe: publishes are serialised on the one channel it owns.
 */
public final class ConfirmingPublisher implements AutoCloseable {

    /** Told about a mandatory message the broker could not route (no queue bound for it). */
    public interface ReturnHandler {
        void returned(String routingKey, AMQP.BasicProperties properties, byte[] body);
    }

    /**
     * What this publisher has seen since it opened, for metrics.
     *
     * @param confirmed messages the broker confirmed (acked)
     * @param nacked    messages the broker nacked (and that were published again)
     * @param returned  mandatory messages the broker could not route
     * @param pending   messages not confirmed yet
     */
    public record Counts(long confirmed, long nacked, long returned, long pending) {
    }

    private record Message(String exchange, String routingKey, boolean mandatory, AMQP.BasicProperties properties,
                           byte[] body) {
    }

    private static final Logger LOG = Logger.getLogger(ConfirmingPublisher.class.getName());

    private final Channel channel;
    private final ConcurrentNavigableMap<Long, Message> unconfirmed = new ConcurrentSkipListMap<>();
    /** Published while the connection was down; sent first thing after recovery. Guarded by this. */
    private final List<Message> backlog = new ArrayList<>();
    private final LongAdder acks = new LongAdder();
    private final LongAdder nacks = new LongAdder();
    private final LongAdder returns = new LongAdder();

    public ConfirmingPublisher(Broker broker, ReturnHandler onReturn) {
        try {
            this.channel = broker.connection().createChannel();
            channel.confirmSelect();
        } catch (IOException e) {
            throw new BrokerException("cannot open a RabbitMQ channel: " + e.getMessage(), e);
        }
        channel.addConfirmListener((tag, multiple) -> acks.add(confirmed(tag, multiple).size()),
                (tag, multiple) -> republish(confirmed(tag, multiple)));
        channel.addReturnListener(r -> {
            returns.increment();
            onReturn.returned(r.getRoutingKey(), r.getProperties(), r.getBody());
        });
        ((Recoverable) channel).addRecoveryListener(new RecoveryListener() {
            @Override
            public void handleRecovery(Recoverable recoverable) {
                afterRecovery();
            }

            @Override
            public void handleRecoveryStarted(Recoverable recoverable) {
                // Nothing to do until the channel is back.
            }
        });
    }

    /** Publishes one message; if the connection is down, it is kept and published after recovery. */
    public synchronized void publish(String exchange, String routingKey, boolean mandatory,
                                     AMQP.BasicProperties properties, byte[] body) {
        Message message = new Message(exchange, routingKey, mandatory, properties, body);
        if (!channel.isOpen()) {
            backlog.add(message);
            return;
        }
        flushBacklog();
        send(message);
    }

    /** Messages not confirmed yet (sent or waiting for the connection). */
    public synchronized int pending() {
        return unconfirmed.size() + backlog.size();
    }

    /** Confirms, nacks and returns so far, and the messages pending now. */
    public Counts counts() {
        return new Counts(acks.sum(), nacks.sum(), returns.sum(), pending());
    }

    /**
     * Waits until every message published so far is confirmed.
     *
     * @return false if some were still unconfirmed after {@code timeout}
     */
    public boolean awaitConfirms(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    @Override
    public void close() {
        try {
            if (channel.isOpen()) {
                channel.close();
            }
        } catch (IOException | TimeoutException | ShutdownSignalException e) {
            LOG.log(Level.FINE, "closing a publisher channel failed", e);
        }
    }

    private void send(Message message) {
        long tag = channel.getNextPublishSeqNo();
        unconfirmed.put(tag, message);
        try {
            channel.basicPublish(message.exchange(), message.routingKey(), message.mandatory(),
                    message.properties(), message.body());
        } catch (IOException | ShutdownSignalException e) {
            // The connection dropped under us: the message waits for recovery with the others.
            unconfirmed.remove(tag);
            backlog.add(message);
        }
    }

    private List<Message> confirmed(long tag, boolean multiple) {
        List<Message> done = new ArrayList<>();
        if (multiple) {
            Map<Long, Message> head = unconfirmed.headMap(tag, true);
            done.addAll(head.values());
            head.clear();
        } else {
            Message message = unconfirmed.remove(tag);
            if (message != null) {
                done.add(message);
            }
        }
        return done;
    }

    private synchronized void republish(List<Message> nacked) {
        nacks.add(nacked.size());
        LOG.warning(() -> "RabbitMQ nacked " + nacked.size() + " message(s); publishing them again");
        backlog.addAll(0, nacked);
        flushBacklog();
    }

    private synchronized void afterRecovery() {
        // Delivery tags restart on a recovered channel: whatever was not confirmed goes out again, first.
        List<Message> again = new ArrayList<>(unconfirmed.values());
        unconfirmed.clear();
        backlog.addAll(0, again);
        LOG.info(() -> "publishing " + backlog.size() + " unconfirmed message(s) again after recovery");
        flushBacklog();
    }

    private void flushBacklog() {
        List<Message> waiting = new ArrayList<>(backlog);
        backlog.clear();
        for (Message message : waiting) {
            if (!channel.isOpen()) {
                backlog.add(message);
            } else {
                send(message);
            }
        }
    }
}
