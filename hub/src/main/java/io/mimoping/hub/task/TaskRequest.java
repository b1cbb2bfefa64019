package io.mimoping.hub.task;

import io.mimoping.bridge.probe.AgentNames;
import io.mimoping.bridge.probe.PingTask;

import java.time.Duration;
import java.util.List;

/**
 * A validated ping request with every default filled in: what {@code POST /ping-task} and
 * {@code mimoping ping} ask for.
 *
 * @param from     pinging sides by name, {@value #HUB} being the hub itself
 * @param targets  host names or addresses, as written
 * @param interval pause between two probes to the same target
 * @param count    probes per target
 * @param timeout  deadline of each probe
 * @param size     ICMP payload bytes
 */
public record TaskRequest(List<String> from, List<String> targets, Duration interval, int count,
                          Duration timeout, int size) {

    /** The name of the hub itself as a pinging side, in {@code from} and in events' {@code metadata.from}. */
    public static final String HUB = AgentNames.HUB;

    public TaskRequest {
        from = List.copyOf(from);
        targets = List.copyOf(targets);
    }

    /** Named pinging sides other than the hub itself. */
    public List<String> agents() {
        return from.stream().filter(name -> !name.equals(HUB)).toList();
    }

    /** The part the hub's own engine runs. */
    public PingTask toPingTask(String taskId) {
        return new PingTask(taskId, targets, interval, count, timeout, size);
    }
}
