package io.mimoping.hub.ws;

import io.mimoping.agent.observe.RateLimitedLog;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agents registered with this hub over {@code /ws}, one per name, and their liveness: the registry
 * sends every agent a heartbeat each {@link #heartbeat()} and forgets an agent it has not heard from for
 * {@link #timeout()} (its connection is closed with {@value AgentEndpoint#HEARTBEAT_TIMEOUT}). An agent whose
 * connection drops (ends without a close frame) is forgotten at once, and a new registration of its name replaces a
 * registration whose connection has ended.
 *
 * <p>Thread-safe. Listeners are called on the thread that saw the change (a connection's thread or the
 * liveness timer): they must not block. One registry per hub; closing it stops the timer and lets every
 * agent go.
 */
public final class AgentRegistry implements AutoCloseable {

    /** Told when agents come and go. */
    public interface Listener {

        /** An agent's registration was accepted; it is in {@link #list()} from now on. */
        default void onJoined(Agent agent) {
        }

        /**
         * An agent is gone: it disconnected, was silent for the timeout, or the hub is stopping.
         * Called once per registration, always after {@link #onJoined}.
         */
        void onLeft(Agent agent, String reason);

        /**
         * The agent's connection dropped: it ended without a close frame (the agent's process died, or its network
         * reset the connection). Called just after {@link #onLeft}, which says the same reason.
         */
        default void onDropped(Agent agent, String reason) {
        }
    }

    /** Outcome of a registration attempt. */
    sealed interface Admission {
    }

    /** Accepted: the agent is registered under this entry. */
    record Admitted(Entry entry) implements Admission {
    }

    /** Refused: a live agent already has the name. */
    record Duplicate(Agent existing) implements Admission {
    }

    /** One live registration. */
    static final class Entry {
        private final Agent agent;
        private final AgentSession session;
        private final AtomicBoolean sending = new AtomicBoolean();
        private volatile long lastHeardNanos = System.nanoTime();
        /** Set once the registration is complete: only then is it listed, heartbeated, announced. */
        private volatile boolean joined;
        /** Set once it is out of the registry; joined and gone change under the entry's lock. */
        private boolean gone;

        private Entry(Agent agent, AgentSession session) {
            this.agent = agent;
            this.session = session;
        }

        Agent agent() {
            return agent;
        }
    }

    private static final Logger LOG = Logger.getLogger(AgentRegistry.class.getName());

    private final String hubId;
    private final Duration heartbeat;
    private final Duration timeout;
    private final byte[] token;
    private final ConcurrentHashMap<String, Entry> agents = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer;
    private final ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean closed;
    /** Why no agent may register here, or null: set once, before the server starts. */
    private volatile String refusal;
    /** The refusals of {@code /ws}: a line each, counted when they repeat (a wrong token retried by many agents). */
    private final RateLimitedLog refusals = new RateLimitedLog(Logger.getLogger(AgentEndpoint.class.getName()));

    /**
     * @param hubId      how this hub names itself to agents
     * @param heartbeat  how often heartbeats go both ways
     * @param timeout    how long an agent may stay silent before it is forgotten (more than {@code heartbeat})
     * @param agentToken what an agent must present to register; {@code null}: any agent may register
     */
    public AgentRegistry(String hubId, Duration heartbeat, Duration timeout, String agentToken) {
        this.hubId = Objects.requireNonNull(hubId, "hubId");
        if (heartbeat.isNegative() || heartbeat.isZero() || timeout.compareTo(heartbeat) <= 0) {
            throw new IllegalArgumentException("need 0 < heartbeat < timeout, got " + heartbeat + " and " + timeout);
        }
        this.heartbeat = heartbeat;
        this.timeout = timeout;
        this.token = agentToken == null ? null : agentToken.getBytes(StandardCharsets.UTF_8);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "mimoping-agent-liveness");
            thread.setDaemon(true);
            return thread;
        });
        long beat = heartbeat.toNanos();
        long check = Math.max(TimeUnit.MILLISECONDS.toNanos(10), timeout.toNanos() / 10);
        timer.scheduleAtFixedRate(() -> guarded(this::sendHeartbeats), beat, beat, TimeUnit.NANOSECONDS);
        timer.scheduleAtFixedRate(() -> guarded(this::forgetSilent), check, check, TimeUnit.NANOSECONDS);
    }

    public String hubId() {
        return hubId;
    }

    public Duration heartbeat() {
        return heartbeat;
    }

    public Duration timeout() {
        return timeout;
    }

    /** Where {@code /ws} logs the connections and agents it refuses. */
    RateLimitedLog refusals() {
        return refusals;
    }

    /** Whether agents must present a token to register. */
    public boolean tokenRequired() {
        return token != null;
    }

    /** The live agent of that name, if any. */
    public Optional<Agent> find(String name) {
        return Optional.ofNullable(agents.get(name)).filter(entry -> entry.joined).map(Entry::agent);
    }

    /** The live agents, sorted by name. */
    public List<Agent> list() {
        return agents.values().stream().filter(entry -> entry.joined).map(Entry::agent).sorted(Comparator.comparing(Agent::name)).toList();
    }

    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Stops the liveness timer and lets every agent go (close code 1001): they will reconnect elsewhere or later. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdownNow();
        for (Entry entry : agents.values()) {
            if (agents.remove(entry.agent.name(), entry)) {
                removed(entry, "the hub is stopping");
                senders.execute(() -> {
                    try {
                        entry.session.close(1001, "hub stopping");
                    } catch (RuntimeException e) {
                        LOG.log(Level.FINE, e, () -> "saying goodbye to agent '" + entry.agent.name() + "' failed");
                    }
                });
            }
        }
        senders.shutdown();
        try {
            if (!senders.awaitTermination(1, TimeUnit.SECONDS)) {
                senders.shutdownNow();
            }
        } catch (InterruptedException e) {
            senders.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Refuses every registration, saying why: a hub without a broker cannot give agents tasks, and listing them
     * in {@code /conns} would say otherwise.
     */
    public void refuseAll(String reason) {
        refusal = Objects.requireNonNull(reason, "reason");
    }

    /** Why no agent may register here, if none may. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }

    /** Whether the presented token lets an agent register (constant time in the token's content). */
    boolean admits(String presented) {
        if (token == null) {
            return true;
        }
        return presented != null && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Takes the agent's name unless a live agent has it already; a registration of the name whose connection has
     * ended (the same agent, restarted, before its old connection was seen to drop) is replaced. The agent is not
     * listed, heartbeated or announced until {@link #joined}.
     */
    Admission register(Agent agent, AgentSession session) {
        if (closed) {
            throw new IllegalStateException("the agent registry is closed");
        }
        Entry entry = new Entry(agent, session);
        while (true) {
            Entry existing = agents.putIfAbsent(agent.name(), entry);
            if (existing == null) {
                return new Admitted(entry);
            }
            if (!existing.session.ended()) {
                return new Duplicate(existing.agent);
            }
            if (agents.replace(agent.name(), existing, entry)) {
                removedDropped(existing, "its connection had ended; replaced by a new registration from "
                        + agent.remoteAddress());
                return new Admitted(entry);
            }
            // the dead registration went meanwhile: try again
        }
    }

    /** The registration is complete: from now on the agent is listed, heartbeated and announced. */
    void joined(Entry entry) {
        Agent agent = entry.agent;
        entry.lastHeardNanos = System.nanoTime();
        synchronized (entry) {
            if (entry.gone) {
                return; // it went away meanwhile: nobody hears it came or left
            }
            entry.joined = true;
            fireJoined(agent);
        }
    }

    private void fireJoined(Agent agent) {
        LOG.info(() -> "agent '" + agent.name() + "' registered from " + agent.remoteAddress()
                + " (version " + agent.version() + ")");
        for (Listener listener : listeners) {
            try {
                listener.onJoined(agent);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, e, () -> "agent listener failed on '" + agent.name() + "' joining");
            }
        }
    }

    /** Runs {@code task} on the liveness timer after {@code delay}; not at all once the registry is closed. */
    void schedule(Runnable task, Duration delay) {
        try {
            timer.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // closed: the server drops its connections itself
        }
    }

    /** The agent sent something: it is alive. */
    void heard(Entry entry) {
        entry.lastHeardNanos = System.nanoTime();
    }

    /** The agent's connection ended; forgets it unless it was forgotten already. */
    void left(Entry entry, String reason) {
        if (agents.remove(entry.agent.name(), entry)) {
            removed(entry, reason);
        }
    }

    /** The agent's connection dropped (ended without a close frame); forgets it unless it was forgotten already. */
    void dropped(Entry entry, String reason) {
        if (agents.remove(entry.agent.name(), entry)) {
            removedDropped(entry, reason);
        }
    }

    /** {@link #removed}, for an entry whose connection dropped: the listeners hear that too. */
    private void removedDropped(Entry entry, String reason) {
        if (removed(entry, reason)) {
            fireDropped(entry.agent, reason);
        }
    }

    /** Marks a removed entry gone; tells the listeners if they had heard it join. Returns whether they had. */
    private boolean removed(Entry entry, String reason) {
        synchronized (entry) {
            entry.gone = true;
            if (entry.joined) {
                fireLeft(entry.agent, reason);
            }
            return entry.joined;
        }
    }

    /** A periodic task that threw would never run again: log and go on. */
    private static void guarded(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "agent liveness check failed", e);
        }
    }

    private void sendHeartbeats() {
        for (Entry entry : agents.values()) {
            if (!entry.joined || !entry.sending.compareAndSet(false, true)) {
                continue; // the last heartbeat is still being written: the peer does not read
            }
            senders.execute(() -> {
                try {
                    entry.session.heartbeat();
                } catch (RuntimeException e) {
                    forget(entry, "connection lost (" + e.getMessage() + ")");
                } finally {
                    entry.sending.set(false);
                }
            });
        }
    }

    private void forgetSilent() {
        long now = System.nanoTime();
        for (Entry entry : agents.values()) {
            long silentNanos = now - entry.lastHeardNanos;
            if (silentNanos > timeout.toNanos()) {
                forget(entry, "no heartbeat for " + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms");
            }
        }
    }

    /** Forgets a live agent and closes its connection; if the peer does not finish the close, drops it. */
    private void forget(Entry entry, String reason) {
        if (!agents.remove(entry.agent.name(), entry)) {
            return;
        }
        removed(entry, reason);
        if (closed) {
            return;
        }
        try {
            senders.execute(() -> {
                try {
                    entry.session.close(AgentEndpoint.HEARTBEAT_TIMEOUT, reason);
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, e, () -> "closing agent '" + entry.agent.name() + "' failed");
                }
            });
            timer.schedule(() -> senders.execute(entry.session::abort), heartbeat.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the registry is closing: the server drops its connections itself
        }
    }

    private void fireDropped(Agent agent, String reason) {
        for (Listener listener : listeners) {
            try {
                listener.onDropped(agent, reason);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, e, () -> "agent listener failed on '" + agent.name() + "' dropping");
            }
        }
    }

    private void fireLeft(Agent agent, String reason) {
        LOG.info(() -> "agent '" + agent.name() + "' left: " + reason);
        for (Listener listener : listeners) {
            try {
                listener.onLeft(agent, reason);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, e, () -> "agent listener failed on '" + agent.name() + "' leaving");
            }
        }
    }
}
