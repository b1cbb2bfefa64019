package io.mimoping.hub.control;

import io.mimoping.agent.engine.ProbeEngine;
import io.mimoping.agent.engine.RunningTask;
import io.mimoping.bridge.control.AgentCapabilities;
import io.mimoping.bridge.probe.ErrorCode;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TaskTotals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * An agent as a pinging side, minus what its control channel says it cannot do: each target that is an
 * address literal of a family the agent cannot send gets one {@code unsupported} error and is left out of the
 * task the agent receives; the rest runs. Host names are left to the agent, which resolves them (and reports
 * {@code permission_denied} for a family it cannot send). Without known capabilities, everything goes through.
 */
final class CapableSide implements ProbeEngine {

    /** Address literals, as the engine tells them from names: digits and dots, or anything with a colon. */
    private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9.]+");

    private final String name;
    private final ProbeEngine agent;
    private final Supplier<Optional<AgentCapabilities>> capabilities;

    CapableSide(String name, ProbeEngine agent, Supplier<Optional<AgentCapabilities>> capabilities) {
        this.name = name;
        this.agent = agent;
        this.capabilities = capabilities;
    }

    @Override
    public RunningTask start(PingTask task, ProbeListener listener) {
        Optional<AgentCapabilities> known = capabilities.get();
        if (known.isEmpty()) {
            return agent.start(task, listener);
        }
        List<String> runnable = new ArrayList<>();
        List<ProbeError> refused = new ArrayList<>();
        for (String target : task.targets()) {
            Optional<String> why = unsupported(known.get(), target);
            if (why.isPresent()) {
                refused.add(ProbeError.ofTarget(ErrorCode.UNSUPPORTED, target, why.get()));
            } else {
                runnable.add(target);
            }
        }
        refused.forEach(listener::onEvent);
        if (refused.isEmpty()) {
            return agent.start(task, listener);
        }
        if (runnable.isEmpty()) {
            listener.onFinished(new TaskTotals(0, 0, 0, refused.size(), Duration.ZERO));
            return () -> { };
        }
        PingTask rest = new PingTask(task.id(), runnable, task.interval(), task.count(), task.timeout(), task.payloadSize());
        return agent.start(rest, new ProbeListener() {
            @Override
            public void onEvent(ProbeEvent event) {
                listener.onEvent(event);
            }

            @Override
            public void onFinished(TaskTotals totals) {
                listener.onFinished(new TaskTotals(totals.sent(), totals.received(), totals.timeouts(),
                        totals.errors() + refused.size(), totals.duration()));
            }
        });
    }

    /** Why the agent cannot ping this target, when the target's family is plain from its text. */
    private Optional<String> unsupported(AgentCapabilities capabilities, String target) {
        AgentCapabilities.Icmp icmp;
        String family;
        if (target.contains(":")) {
            icmp = capabilities.ipv6();
            family = "IPv6";
        } else if (IPV4_LITERAL.matcher(target).matches()) {
            icmp = capabilities.ipv4();
            family = "IPv4";
        } else {
            return Optional.empty();
        }
        if (icmp.engineSocket() != AgentCapabilities.SocketKind.NONE) {
            return Optional.empty();
        }
        return Optional.of("agent '" + name + "' cannot send " + family + " ICMP: "
                + icmp.unavailable().orElse("its control channel reports no socket for it"));
    }

    @Override
    public void close() {
        // the agent lives in its own process
    }
}
