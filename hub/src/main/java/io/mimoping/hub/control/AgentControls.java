package io.mimoping.hub.control;

import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.bridge.control.AgentCapabilities;
import io.mimoping.bridge.control.ControlClient;
import io.mimoping.bridge.control.ControlException;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.ws.Agent;
import io.mimoping.hub.ws.AgentRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * The control channels of the registered agents: asks each agent's {@code GetCapabilities} when it
 * registers (each attempt with a deadline, retried with backoff), keeps the answer or the reason there is
 * none, and closes the channel when the agent leaves. Wraps the hub's agent directory so that a task leaves
 * out what an agent cannot do ({@link CapableSide}) and refuses agents that can send no ICMP at all.
 *
 * <p>Thread-safe; registry callbacks return at once (the asking runs on virtual threads).
 */
public final class AgentControls implements AgentRegistry.Listener {

    /** How long one {@code GetCapabilities} call may take. */
    static final Duration DEADLINE = Duration.ofSeconds(2);
    /** Calls at registration before the agent is listed as unreachable. */
    static final int ATTEMPTS = 3;
    /** Pause after the first failed call; doubles after each. */
    static final Duration BACKOFF = Duration.ofMillis(250);

    private static final Logger LOG = Logger.getLogger(AgentControls.class.getName());

    private final AgentRegistry registry;
    private final Map<Agent, Channel> channels = new ConcurrentHashMap<>();

    /** One agent's channel and what it said; the state is replaced, never changed. */
    private static final class Channel {
        private final ControlClient client;
        private final String address;
        private volatile CapabilityState state;
        private volatile boolean closed;

        private Channel(ControlClient client, String address, CapabilityState state) {
            this.client = client;
            this.address = address;
            this.state = state;
        }

        /** An agent with no channel to ask, and why. */
        private static Channel none(String reason) {
            return new Channel(null, null, new CapabilityState.Unknown(reason));
        }

        /**
         * Keeps what the channel answered for {@code agent}, unless another agent answered (such as a local
         * agent on a loopback address a remote agent announced).
         *
         * @return the state kept: {@link CapabilityState.Detected}, or {@link CapabilityState.Unknown} saying who answered
         */
        private CapabilityState answered(Agent agent, AgentCapabilities capabilities) {
            CapabilityState answer = capabilities.agent().equals(agent.name()) ? new CapabilityState.Detected(capabilities)
                    : new CapabilityState.Unknown("the control channel at " + address + " answered as agent '"
                    + capabilities.agent() + "', not as '" + agent.name() + "'; set control-addr of '" + agent.name()
                    + "' to an address where it listens and the hub can reach");
            state = answer;
            return answer;
        }
    }

    private AgentControls(AgentRegistry registry) {
        this.registry = registry;
    }

    /** Starts following the registry's agents. */
    public static AgentControls watch(AgentRegistry registry) {
        AgentControls controls = new AgentControls(registry);
        registry.addListener(controls);
        registry.list().forEach(controls::onJoined);
        return controls;
    }

    /** What is known of this registered agent's capabilities. */
    public CapabilityState state(Agent agent) {
        Channel channel = channels.get(agent);
        // none yet: the registry lists an agent just before it tells this listener
        return channel == null ? new CapabilityState.Pending(String.valueOf(agent.controlAddress())) : channel.state;
    }

    /** The capabilities of the live agent of that name, if its control channel answered. */
    public Optional<AgentCapabilities> detected(String name) {
        return registry.find(name).map(this::state)
                .flatMap(state -> state instanceof CapabilityState.Detected(AgentCapabilities c) ? Optional.of(c) : Optional.empty());
    }

    /**
     * Asks the live agent of that name now, over its control channel.
     *
     * @throws NoSuchElementException if no agent of that name is registered
     * @throws IllegalStateException  if it announced no control channel, or another agent answered there
     * @throws ControlException       if its control channel does not answer in time
     */
    public AgentCapabilities ask(String name) {
        Agent agent = registry.find(name).orElseThrow(() -> new NoSuchElementException("no agent named '" + name
                + "' is registered with this hub"));
        Channel channel = channels.get(agent);
        if (channel == null || channel.client == null) {
            throw new IllegalStateException(channel == null ? "agent '" + name + "' is leaving"
                    : "agent '" + name + "': " + channel.state.reason());
        }
        AgentCapabilities capabilities = channel.client.capabilities(DEADLINE);
        if (channel.answered(agent, capabilities) instanceof CapabilityState.Unknown(String reason)) {
            throw new IllegalStateException("agent '" + name + "': " + reason);
        }
        return capabilities;
    }

    /** The hub's agent directory, with what the agents' control channels said applied to tasks. */
    public AgentDirectory directory(AgentDirectory agents) {
        return new AgentDirectory() {
            @Override
            public Optional<ProbeEngine> find(String name) {
                return agents.find(name).map(side -> new CapableSide(name, side, () -> detected(name)));
            }

            @Override
            public Optional<String> refusal(String name) {
                return detected(name).filter(c -> !c.canPing()).map(c -> "agent '" + name
                        + "' can send no ICMP at all (IPv4: " + c.ipv4().unavailable().orElse("?") + "; IPv6: "
                        + c.ipv6().unavailable().orElse("?") + ")");
            }
        };
    }

    @Override
    public void onJoined(Agent agent) {
        if (agent.controlAddress() == null || agent.controlAddress().isEmpty()) {
            channels.putIfAbsent(agent, Channel.none("the agent announced no control channel"));
            return;
        }
        ControlTarget target;
        try {
            target = ControlTarget.of(agent.controlAddress(), agent.remoteAddress());
        } catch (IllegalArgumentException e) {
            channels.putIfAbsent(agent, Channel.none(e.getMessage()));
            return;
        }
        Channel channel = new Channel(new ControlClient(target.host(), target.port()), target.text(),
                new CapabilityState.Pending(target.text()));
        if (channels.putIfAbsent(agent, channel) != null) {
            channel.client.close(); // heard twice: joined while watch() listed the registry
            return;
        }
        Thread.ofVirtual().name("mimoping-capabilities-" + agent.name()).start(() -> detect(agent, channel));
    }

    @Override
    public void onLeft(Agent agent, String reason) {
        Channel channel = channels.remove(agent);
        if (channel != null && channel.client != null) {
            channel.closed = true;
            channel.client.close();
        }
    }

    /** Asks at registration, {@link #ATTEMPTS} times at most. */
    private static void detect(Agent agent, Channel channel) {
        Duration pause = BACKOFF;
        for (int attempt = 1; !channel.closed; attempt++) {
            try {
                AgentCapabilities capabilities = channel.client.capabilities(DEADLINE);
                if (channel.answered(agent, capabilities) instanceof CapabilityState.Unknown(String reason)) {
                    LOG.warning(() -> "agent '" + agent.name() + "': " + reason);
                    return;
                }
                LOG.info(() -> "agent '" + agent.name() + "' can ping: IPv4 " + capabilities.ipv4().engineSocket()
                        + ", IPv6 " + capabilities.ipv6().engineSocket());
                return;
            } catch (ControlException e) {
                if (attempt == ATTEMPTS) {
                    channel.state = new CapabilityState.Unknown(e.getMessage() + " (" + ATTEMPTS + " attempts)");
                    LOG.warning(() -> "agent '" + agent.name() + "': " + e.getMessage() + " (" + ATTEMPTS + " attempts)");
                    return;
                }
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                return;
            }
            pause = pause.multipliedBy(2);
        }
    }
}
