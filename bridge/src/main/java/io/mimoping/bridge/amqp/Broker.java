package io.mimoping.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.TopologyRecoveryException;
import com.rabbitmq.client.impl.DefaultExceptionHandler;

import java.io.IOException;
import java.net.URISyntaxException;
import java.security.GeneralSecurityException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One connection to RabbitMQ with automatic recovery: after a broker restart or a network fault it
 * reconnects on its own and replays the recorded topology (queues, bindings, consumers).
 */
public final class Broker implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Broker.class.getName());

    private final Connection connection;

    private Broker(Connection connection) {
        this.connection = connection;
    }

    /**
     * Connects.
     *
     * @param url  {@code amqp://user:pass@host:port/vhost}
     * @param name connection name shown by {@code rabbitmqctl list_connections}
     * @throws BrokerException if the URL is invalid or the broker cannot be reached
     */
    public static Broker connect(String url, String name) {
        ConnectionFactory factory = new ConnectionFactory();
        try {
            factory.setUri(url);
            if (factory.getVirtualHost().isEmpty()) {
                // "amqp://host:5672/" names the empty vhost to the client; people mean the default one.
                factory.setVirtualHost("/");
            }
        } catch (URISyntaxException | GeneralSecurityException | IllegalArgumentException e) {
            throw new BrokerException("invalid RabbitMQ URL '" + url + "': " + e.getMessage(), e);
        }
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(true);
        factory.setNetworkRecoveryInterval(1_000);
        factory.setRequestedHeartbeat(10);
        factory.setConnectionTimeout(10_000);
        factory.setSharedExecutor(Executors.newVirtualThreadPerTaskExecutor());
        factory.setExceptionHandler(new DefaultExceptionHandler() {
            @Override
            public void handleUnexpectedConnectionDriverException(Connection connection, Throwable exception) {
                // A refused login or vhost is reported by connect's own error, a lost connection by the
                // recovery listener below: the client's own warning would only repeat them.
                LOG.log(Level.FINE, exception, () -> "RabbitMQ connection '" + name + "': " + exception.getMessage());
            }

            @Override
            public void handleTopologyRecoveryException(Connection connection, Channel channel,
                                                        TopologyRecoveryException exception) {
                // One line: the owner of what could not be recovered (a consumer the broker refused) sees it
                // and says what it means.
                Throwable cause = exception.getCause() == null ? exception : exception.getCause();
                LOG.warning(() -> "RabbitMQ connection '" + name + "' recovered without part of its topology: "
                        + cause.getMessage());
                LOG.log(Level.FINE, "topology recovery failure", exception);
            }
        });
        try {
            Connection connection = factory.newConnection(name);
            AtomicReference<String> lostBecause = new AtomicReference<>("");
            connection.addShutdownListener(cause -> lostBecause.set(cause.getMessage()));
            ((Recoverable) connection).addRecoveryListener(new RecoveryListener() {
                @Override
                public void handleRecovery(Recoverable recoverable) {
                    LOG.info(() -> "RabbitMQ connection '" + name + "' recovered");
                }

                @Override
                public void handleRecoveryStarted(Recoverable recoverable) {
                    LOG.warning(() -> "RabbitMQ connection '" + name + "' lost (" + lostBecause.get() + "); reconnecting");
                }
            });
            return new Broker(connection);
        } catch (IOException | TimeoutException e) {
            throw new BrokerException("cannot connect to RabbitMQ at " + factory.getHost() + ":" + factory.getPort()
                    + ": " + why(e), e);
        }
    }

    /**
     * Why connecting failed, in the broker's words where it gave some ("NOT_ALLOWED - vhost x not found" comes as
     * an IOException without a message, caused by the connection's close).
     */
    private static String why(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException shutdown && shutdown.getReason() instanceof AMQP.Connection.Close close) {
                return close.getReplyText();
            }
            if (t.getMessage() != null) {
                return t.getMessage();
            }
        }
        return e.toString();
    }

    /** The underlying connection (channels are opened from it, one per owning thread). */
    public Connection connection() {
        return connection;
    }

    /**
     * Runs {@code action} each time the connection is back after a failure, once its channels, queues and
     * consumers are recovered (on the client's recovery thread).
     */
    public void onRecovery(Runnable action) {
        ((Recoverable) connection).addRecoveryListener(new RecoveryListener() {
            @Override
            public void handleRecovery(Recoverable recoverable) {
                action.run();
            }

            @Override
            public void handleRecoveryStarted(Recoverable recoverable) {
                // Nothing to do until the connection is back.
            }
        });
    }

    /**
     * Consumers of {@code queue} now; -1 if there is no such queue.
     *
     * @throws BrokerException if the broker cannot be asked (not connected)
     */
    public int consumers(String queue) {
        try {
            Channel channel = connection.createChannel();
            try {
                return channel.queueDeclarePassive(queue).getConsumerCount();
            } catch (IOException e) {
                if (channelClosedWith(e, AMQP.NOT_FOUND)) {
                    return -1;
                }
                throw e;
            } finally {
                if (channel.isOpen()) {
                    channel.close();
                }
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            throw new BrokerException("cannot look at queue " + queue + ": " + e.getMessage(), e);
        }
    }

    /** Whether a channel's operation failed because the broker closed the channel with {@code replyCode}. */
    public static boolean channelClosedWith(IOException e, int replyCode) {
        return e.getCause() instanceof ShutdownSignalException signal
                && signal.getReason() instanceof AMQP.Channel.Close close && close.getReplyCode() == replyCode;
    }

    /** Whether the connection is up now (false while it recovers). */
    public boolean isOpen() {
        return connection.isOpen();
    }

    @Override
    public void close() {
        try {
            connection.close(5_000);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "closing the RabbitMQ connection failed", e);
        }
    }
}
