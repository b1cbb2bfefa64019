package io.mimoping.hub;

import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.hub.guard.ConnectionGuard;
import io.mimoping.hub.guard.ConnectionLimits;
import io.mimoping.hub.guard.FdBudget;
import io.mimoping.hub.observe.ClientStreams;
import io.mimoping.hub.observe.HubObservation;
import io.mimoping.hub.stream.StreamLimits;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.ws.AgentRegistry;

import java.util.Objects;

/**
 * What the hub's routes are built from: {@link Main#setup} takes it, so {@code main} and tests wire the
 * same server. The caller owns (and closes) everything in it.
 *
 * @param engine    the hub's own probe engine
 * @param agents    the agents registered over {@code /ws}
 * @param directory the pinging side behind an agent name ({@link AgentDirectory#NONE} in embedded mode)
 * @param streams   what tasks started with {@code POST /tasks} keep for their stream clients
 * @param clients   where the transports count their client streams ({@link HubObservation#clients()})
 * @param guard     what guards the listener against connections it cannot afford
 */
public record HubSetup(ProbeEngine engine, AgentRegistry agents, AgentDirectory directory, StreamLimits streams,
                       ClientStreams clients, ConnectionGuard guard) {

    public HubSetup {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(agents, "agents");
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(streams, "streams");
        Objects.requireNonNull(clients, "clients");
        Objects.requireNonNull(guard, "guard");
    }

    /** With the default connection limits, sized for this process's file descriptors now. */
    public HubSetup(ProbeEngine engine, AgentRegistry agents, AgentDirectory directory, StreamLimits streams,
                    ClientStreams clients) {
        this(engine, agents, directory, streams, clients,
                new ConnectionGuard(ConnectionLimits.DEFAULTS.fitted(FdBudget.now())));
    }

    /** With client streams counted apart from any metrics. */
    public HubSetup(ProbeEngine engine, AgentRegistry agents, AgentDirectory directory, StreamLimits streams) {
        this(engine, agents, directory, streams, new ClientStreams());
    }

    /** With the default stream limits. */
    public HubSetup(ProbeEngine engine, AgentRegistry agents, AgentDirectory directory) {
        this(engine, agents, directory, StreamLimits.DEFAULTS);
    }

    /** Embedded mode: no broker, so no agent can take part in a task. */
    public HubSetup(ProbeEngine engine, AgentRegistry agents) {
        this(engine, agents, AgentDirectory.NONE);
    }
}
