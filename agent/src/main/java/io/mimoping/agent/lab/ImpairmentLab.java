package io.mimoping.agent.lab;

import io.mimoping.agent.icmp.IcmpFamily;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * An impaired network for tests of the probe engine, since this kernel has no netem: emulated targets in
 * a network namespace of the lab's own, whose kernel echo replies are switched off, answered by a
 * userspace {@link Responder} as each target's {@link Behaviour} says (delay, loss, duplicates, spoiled
 * replies, silence). The root namespace reaches them over a veth pair; nothing leaves the host.
 *
 * <p>Needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_NICE for the responder's real-time thread) and the
 * {@code ip} and {@code sysctl} tools. Opening fails with an exception when it cannot build the network
 * or start the responder: tests using it fail, they never skip.
 *
 * <pre>{@code
 * try (ImpairmentLab lab = ImpairmentLab.open(1)) {
 *     InetAddress target = lab.target(IcmpFamily.V4, 0);
 *     lab.behave(target, new Behaviour.Echo(Duration.ofMillis(20)));
 *     // ping target.getHostAddress() with the engine ...
 * }
 * }</pre>
 */
public final class ImpairmentLab implements AutoCloseable {

    private final LabNetwork network;
    private final Responder responder;

    private ImpairmentLab(LabNetwork network, Responder responder) {
        this.network = network;
        this.responder = responder;
    }

    /**
     * Builds a lab with this many emulated targets per address family (IPv4 and IPv6), each answering
     * every request at once until told otherwise.
     */
    public static ImpairmentLab open(int targetsPerFamily) {
        LabNetwork network = LabNetwork.create(targetsPerFamily);
        try {
            List<InetAddress> targets = new ArrayList<>(network.targets(IcmpFamily.V4));
            targets.addAll(network.targets(IcmpFamily.V6));
            return new ImpairmentLab(network, new Responder(network.namespace(), targets));
        } catch (RuntimeException e) {
            throw network.closeAfter(e);
        }
    }

    /** Emulated target {@code index} (from 0) of a family. */
    public InetAddress target(IcmpFamily family, int index) {
        return network.target(family, index);
    }

    /** From now on, requests to this target meet this behaviour. */
    public void behave(InetAddress target, Behaviour behaviour) {
        responder.behave(target, behaviour);
    }

    /**
     * The echo requests this target received so far, in arrival order, what it planned for each and when each
     * reply actually left (its kernel transmit timestamp): the delay a probe really met is
     * {@link HandledRequest#applied}, which a stalled host makes longer than planned.
     */
    public List<HandledRequest> handled(InetAddress target) {
        return responder.handled(target);
    }

    /** The name of the lab's network namespace. */
    public String namespace() {
        return network.namespace();
    }

    /** The veth end in the root namespace. */
    String hostLink() {
        return network.hostLink();
    }

    /**
     * Stops the responder and removes the namespace and the veth pair.
     *
     * @throws IllegalStateException if the responder failed while it ran, or the network could not be removed
     */
    @Override
    public void close() {
        try (network) {
            responder.close();
        }
    }
}
