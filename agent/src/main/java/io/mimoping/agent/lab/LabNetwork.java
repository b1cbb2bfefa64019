package io.mimoping.agent.lab;

import io.mimoping.agent.icmp.IcmpFamily;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The lab's network: a network namespace of its own, joined to the root namespace by a veth pair.
 *
 * <p>Each lab takes one subnet S (0 to 511) of the benchmarking ranges, one not in use in the root
 * namespace: 198.18.0.0/15 (RFC 2544) cut into /24s, and 2001:2::/48 (RFC 5180) cut into /64s. The
 * host end has host number 1 (198.18.S.1, 2001:2:0:S::1), emulated target i has host number i + 2 on
 * the namespace end. Neighbour entries are permanent and IPv6 addresses skip duplicate address
 * detection, so the first probe meets no ARP, neighbour discovery or tentative address.
 *
 * <p>Names carry the creating process id ({@code mimolab-PID-TAG}), so a lab left behind by a process
 * that died is recognised and removed by the next one.
 */
final class LabNetwork implements AutoCloseable {

    private static final int MAX_TARGETS = 200;
    private static final int MAX_ATTEMPTS = 3;
    private static final String PREFIX = "mimolab-";
    private static final Pattern LAB_NAME = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-[0-9a-f]+");
    private static final Path NAMESPACES = Path.of("/var/run/netns");
    private static final int SUBNETS = 512;
    private static final long CARRIER_WAIT_NANOS = 5_000_000_000L;

    private final String namespace;
    private final String hostLink;
    private final String labLink;
    private final byte[] tag;
    private final int subnet;
    private final int targets;

    private LabNetwork(byte[] tag, int subnet, int targets) {
        String hex = HexFormat.of().formatHex(tag);
        this.namespace = PREFIX + ProcessHandle.current().pid() + "-" + hex;
        this.hostLink = "mlab" + hex + "h";
        this.labLink = "mlab" + hex + "n";
        this.tag = tag;
        this.subnet = subnet;
        this.targets = targets;
    }

    /**
     * Builds a network with this many target addresses per family; removes it again if that fails. Should
     * another process's lab take the same subnet at the same moment, both notice and choose again.
     */
    static synchronized LabNetwork create(int targets) {
        if (targets < 1 || targets > MAX_TARGETS) {
            throw new IllegalArgumentException("targets outside [1, " + MAX_TARGETS + "]: " + targets);
        }
        removeAbandoned();
        for (int attempt = 1; ; attempt++) {
            byte[] tag = new byte[4];
            ThreadLocalRandom.current().nextBytes(tag);
            LabNetwork network = new LabNetwork(tag, freeSubnet(), targets);
            try {
                network.build();
                if (!network.sharesSubnet()) {
                    return network;
                }
            } catch (RuntimeException e) {
                throw network.closeAfter(e);
            }
            network.close();
            if (attempt == MAX_ATTEMPTS) {
                throw new IllegalStateException("other labs took the chosen subnet " + attempt + " times");
            }
        }
    }

    String namespace() {
        return namespace;
    }

    /** The veth end in the root namespace. */
    String hostLink() {
        return hostLink;
    }

    /** The root namespace's address on the lab link: where probes come from. */
    InetAddress host(IcmpFamily family) {
        return address(family, 1);
    }

    /** Emulated target {@code index} (from 0) of a family, an address in the lab's namespace. */
    InetAddress target(IcmpFamily family, int index) {
        if (index < 0 || index >= targets) {
            throw new IndexOutOfBoundsException("target " + index + " of " + targets);
        }
        return address(family, index + 2);
    }

    List<InetAddress> targets(IcmpFamily family) {
        List<InetAddress> all = new ArrayList<>(targets);
        for (int i = 0; i < targets; i++) {
            all.add(target(family, i));
        }
        return all;
    }

    /** Removes the network after {@code failure} and returns that failure, with any trouble removing it suppressed. */
    RuntimeException closeAfter(RuntimeException failure) {
        try {
            close();
        } catch (RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
        return failure;
    }

    /** Removes the veth pair (at once) and the namespace (the kernel finishes that in the background). */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (List<String> command : List.of(List.of("ip", "link", "del", hostLink),
                List.of("ip", "netns", "del", namespace))) {
            try {
                Commands.run("", command);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null && exists()) {
            throw failure;
        }
    }

    /** Whether the namespace or the host end of the veth pair still exists. */
    private boolean exists() {
        return Files.exists(NAMESPACES.resolve(namespace)) || Files.exists(Path.of("/sys/class/net", hostLink));
    }

    private void build() {
        String hostMac = mac(1);
        String labMac = mac(2);
        StringBuilder root = new StringBuilder()
                .append("netns add ").append(namespace).append('\n')
                .append("link add ").append(hostLink).append(" address ").append(hostMac)
                .append(" type veth peer name ").append(labLink).append(" address ").append(labMac)
                .append(" netns ").append(namespace).append('\n');
        StringBuilder lab = new StringBuilder("link set lo up\n");
        for (IcmpFamily family : IcmpFamily.values()) {
            root.append(addAddress(host(family), hostLink));
            lab.append(addNeighbour(host(family), hostMac, labLink));
            for (InetAddress target : targets(family)) {
                lab.append(addAddress(target, labLink));
                root.append(addNeighbour(target, labMac, hostLink));
            }
        }
        root.append("link set ").append(hostLink).append(" up\n");
        lab.append("link set ").append(labLink).append(" up\n");
        Commands.run(root.toString(), List.of("ip", "-batch", "-"));
        Commands.run("", List.of("ip", "netns", "exec", namespace, "sysctl", "-q", "-w",
                "net.ipv4.icmp_echo_ignore_all=1", "net.ipv6.icmp.echo_ignore_all=1"));
        Commands.run(lab.toString(), List.of("ip", "-n", namespace, "-batch", "-"));
        awaitCarrier();
    }

    private String addAddress(InetAddress address, String link) {
        boolean v4 = IcmpFamily.of(address) == IcmpFamily.V4;
        return "addr add " + address.getHostAddress() + (v4 ? "/24" : "/64") + " dev " + link
                + (v4 ? "" : " nodad") + '\n';
    }

    private static String addNeighbour(InetAddress address, String mac, String link) {
        return "neigh replace " + address.getHostAddress() + " lladdr " + mac + " dev " + link + " nud permanent\n";
    }

    /** A locally administered unicast MAC address from the lab's tag, {@code end} telling the two ends apart. */
    private String mac(int end) {
        return HexFormat.ofDelimiter(":").formatHex(new byte[] {0x02, tag[0], tag[1], tag[2], tag[3], (byte) end});
    }

    private void awaitCarrier() {
        Path state = Path.of("/sys/class/net", hostLink, "operstate");
        long deadline = System.nanoTime() + CARRIER_WAIT_NANOS;
        try {
            while (!Files.readString(state).strip().equals("up")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(hostLink + " did not come up: " + Files.readString(state).strip());
                }
                Thread.sleep(1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + hostLink, e);
        }
    }

    private InetAddress address(IcmpFamily family, int host) {
        return address(subnet, family, host);
    }

    private static InetAddress address(int subnet, IcmpFamily family, int host) {
        byte[] bytes = family == IcmpFamily.V4
                ? new byte[] {(byte) 198, (byte) (18 + subnet / 256), (byte) subnet, (byte) host}
                : new byte[] {0x20, 0x01, 0x00, 0x02, 0, 0, (byte) (subnet >> 8), (byte) subnet,
                        0, 0, 0, 0, 0, 0, 0, (byte) host};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A subnet no interface of the root namespace has an address in. */
    private static int freeSubnet() {
        List<InetAddress> used = addresses().stream().map(LinkAddress::address).toList();
        int start = ThreadLocalRandom.current().nextInt(SUBNETS);
        for (int i = 0; i < SUBNETS; i++) {
            int subnet = (start + i) % SUBNETS;
            if (used.stream().noneMatch(address -> inSubnet(subnet, address))) {
                return subnet;
            }
        }
        throw new IllegalStateException("every lab subnet of 198.18.0.0/15 and 2001:2::/48 is in use");
    }

    /** Whether a link other than this lab's has an address in its subnet. */
    private boolean sharesSubnet() {
        return addresses().stream().anyMatch(a -> !a.link().equals(hostLink) && inSubnet(subnet, a.address()));
    }

    /** An address of a link. */
    private record LinkAddress(String link, InetAddress address) {
    }

    /** Every address of every link of the root namespace. */
    private static List<LinkAddress> addresses() {
        try (Stream<NetworkInterface> links = NetworkInterface.networkInterfaces()) {
            return links.flatMap(link -> link.inetAddresses().map(a -> new LinkAddress(link.getName(), a)))
                    .toList();
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean inSubnet(int subnet, InetAddress address) {
        byte[] lab = address(subnet, IcmpFamily.of(address), 0).getAddress();
        byte[] other = address.getAddress();
        int prefixBytes = other.length == 4 ? 3 : 8;
        return Arrays.equals(lab, 0, prefixBytes, other, 0, prefixBytes);
    }

    /** Deletes the labs of processes that no longer run (a crashed or killed test run). */
    private static void removeAbandoned() {
        if (!Files.isDirectory(NAMESPACES)) {
            return;
        }
        try (Stream<Path> entries = Files.list(NAMESPACES)) {
            for (Path entry : entries.toList()) {
                Matcher name = LAB_NAME.matcher(entry.getFileName().toString());
                if (name.matches() && ProcessHandle.of(Long.parseLong(name.group(1))).isEmpty()) {
                    try {
                        Commands.run("", List.of("ip", "netns", "del", name.group()));
                    } catch (IllegalStateException e) {
                        if (Files.exists(entry)) {
                            throw e;
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
