package io.mimoping.hub.task;

import io.mimoping.agent.engine.ProbeEngine;

import java.util.Optional;

/** Finds the pinging side behind an agent name. */
@FunctionalInterface
public interface AgentDirectory {

    /** Embedded mode: there are no agents. */
    AgentDirectory NONE = name -> Optional.empty();

    /**
     * @return the agent as a pinging side, or empty if this hub cannot reach agents at all (embedded mode);
     *         an agent that turns out to be unknown or offline reports that as an error event of its own
     */
    Optional<ProbeEngine> find(String name);

    /**
     * Why the agent of this name can take no task at all (it can send no ICMP), if that is known.
     *
     * @return empty when it may take tasks, or nothing is known against it
     */
    default Optional<String> refusal(String name) {
        return Optional.empty();
    }
}
