package io.mimoping.agent.icmp;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Echo round trips through real kernel sockets, to loopback only. Raw sockets in this namespace (the
 * tests run as root); datagram ("ping") sockets in a network namespace the test creates, where it may
 * open {@code net.ipv4.ping_group_range} without touching the host's setting.
 */
class IcmpSocketTest {

    private static final Path PING_GROUP_RANGE = Path.of("/proc/sys/net/ipv4/ping_group_range");
    private static final int PAYLOAD = 56;

    private record Echo(int id, int seq, long cookie, long key) {
        static Echo random(int id) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            return new Echo(id, random.nextInt(1 << 16), random.nextLong(), random.nextLong());
        }
    }

    @Test
    void rawIpv4RoundTrip() throws Exception {
        try (IcmpSocket socket = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.RAW)) {
            assertEquals(-1, socket.identifier(), "a raw socket's sender chooses the identifier");
            socket.acceptOnly(IcmpFamily.V4.echoReply());
            Echo echo = Echo.random(ThreadLocalRandom.current().nextInt(1 << 16));
            ReceivedPacket reply = roundTrip(socket, InetAddress.getByName("127.0.0.1"), echo);
            assertReply(reply, IcmpFamily.V4, InetAddress.getByName("127.0.0.1"), echo, echo.id());
            assertEquals(0, IcmpEcho.checksum(reply.message(), reply.offset(), reply.length()),
                    "the reply's checksum is valid");
        }
    }

    @Test
    void rawIpv6RoundTrip() throws Exception {
        try (IcmpSocket socket = IcmpSocket.open(IcmpFamily.V6, IcmpSocket.Mode.RAW)) {
            socket.acceptOnly(IcmpFamily.V6.echoReply());
            Echo echo = Echo.random(ThreadLocalRandom.current().nextInt(1 << 16));
            ReceivedPacket reply = roundTrip(socket, InetAddress.getByName("::1"), echo);
            assertReply(reply, IcmpFamily.V6, InetAddress.getByName("::1"), echo, echo.id());
        }
    }

    @Test
    void sendsFromADirectBufferAtItsPosition() throws Exception {
        // The engine writes into a direct buffer: the socket must send from its position, not from 0.
        try (IcmpSocket socket = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.RAW)) {
            socket.acceptOnly(IcmpFamily.V4.echoReply());
            Echo echo = Echo.random(ThreadLocalRandom.current().nextInt(1 << 16));
            ByteBuffer out = ByteBuffer.allocateDirect(200);
            out.position(17);
            IcmpEcho.write(out, IcmpFamily.V4.echoRequest(), echo.id(), echo.seq(), echo.cookie(), echo.key(), PAYLOAD);
            out.flip().position(17);
            ReceivedPacket reply = sendAndAwait(socket, InetAddress.getByName("127.0.0.1"), out, echo);
            assertReply(reply, IcmpFamily.V4, InetAddress.getByName("127.0.0.1"), echo, echo.id());
        }
    }

    @Test
    void aBoundRawSocketSendsFromItsAddressAndHearsOnlyWhatIsSentToIt() throws Exception {
        InetAddress target = InetAddress.getByName("127.0.0.1");
        try (IcmpSocket a = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.RAW);
             IcmpSocket b = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.RAW)) {
            a.acceptOnly(IcmpFamily.V4.echoReply());
            b.acceptOnly(IcmpFamily.V4.echoReply());
            a.bind(InetAddress.getByName("127.0.0.2"));
            b.bind(InetAddress.getByName("127.0.0.3"));
            Echo toB = Echo.random(ThreadLocalRandom.current().nextInt(1 << 16));
            roundTrip(b, target, toB);
            Echo toA = Echo.random(ThreadLocalRandom.current().nextInt(1 << 16));
            roundTrip(a, target, toA);
            // b's reply went to 127.0.0.3 before a's went to 127.0.0.2: had a heard it, it would be queued.
            ReceivedPacket packet = new ReceivedPacket();
            while (a.receive(packet)) {
                assertNotEquals(toB.key(), IcmpEcho.key(packet.message(), packet.offset()),
                        "a socket bound to 127.0.0.2 received a reply sent to 127.0.0.3");
            }
        }
    }

    @Test
    void datagramSocketsNeedPingGroupRange() throws Exception {
        // A new namespace starts with the kernel's default range "1 0": nobody may open ping sockets.
        inNamespace(false, () -> {
            for (IcmpFamily family : IcmpFamily.values()) {
                IcmpPermissionException e = assertThrows(IcmpPermissionException.class,
                        () -> IcmpSocket.open(family, IcmpSocket.Mode.DATAGRAM).close());
                assertTrue(e.getMessage().contains("datagram"), e.getMessage());
                assertEquals(Errno.EACCES, e.errno(), e.getMessage());
            }
        });
        // The same holds here wherever the host's range is empty, as on this machine ("1 0").
        String[] range = hostPingGroupRange().split("\\s+");
        if (Long.parseLong(range[0]) > Long.parseLong(range[1])) {
            assertThrows(IcmpPermissionException.class,
                    () -> IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.DATAGRAM).close());
        }
    }

    @Test
    void datagramRoundTripsInANamespaceThatAllowsThem() throws Exception {
        String hostRange = hostPingGroupRange();
        inNamespace(true, () -> {
            try (IcmpSocket v4 = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.DATAGRAM);
                 IcmpSocket other = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.DATAGRAM);
                 IcmpSocket v6 = IcmpSocket.open(IcmpFamily.V6, IcmpSocket.Mode.DATAGRAM)) {
                assertEquals(IcmpSocket.Mode.DATAGRAM, v4.mode());
                for (IcmpSocket socket : List.of(v4, other, v6)) {
                    assertTrue(socket.identifier() >= 1 && socket.identifier() <= 0xffff,
                            "kernel-chosen identifier " + socket.identifier());
                }
                assertNotEquals(v4.identifier(), other.identifier(), "each ping socket has its own identifier");

                // acceptOnly is a no-op for datagram sockets (they only get their own replies).
                v4.acceptOnly(IcmpFamily.V4.echoReply());
                v6.acceptOnly(IcmpFamily.V6.echoReply());

                // We write some other identifier: the kernel puts the socket's own in its place.
                Echo echo4 = Echo.random((v4.identifier() + 1) & 0xffff);
                ReceivedPacket reply4 = roundTrip(v4, InetAddress.getByName("127.0.0.1"), echo4);
                assertReply(reply4, IcmpFamily.V4, InetAddress.getByName("127.0.0.1"), echo4, v4.identifier());

                Echo echo6 = Echo.random((v6.identifier() + 1) & 0xffff);
                ReceivedPacket reply6 = roundTrip(v6, InetAddress.getByName("::1"), echo6);
                assertReply(reply6, IcmpFamily.V6, InetAddress.getByName("::1"), echo6, v6.identifier());

                // The other socket's replies are not delivered to it: nothing is queued there.
                assertFalse(other.receive(new ReceivedPacket()), "a ping socket sees only its own replies");
            }
            // Binding to a local address works for ping sockets too (the kernel still picks the identifier).
            try (IcmpSocket bound = IcmpSocket.open(IcmpFamily.V4, IcmpSocket.Mode.DATAGRAM)) {
                bound.bind(InetAddress.getByName("127.0.0.2"));
                Echo echo = Echo.random(0);
                ReceivedPacket reply = roundTrip(bound, InetAddress.getByName("127.0.0.1"), echo);
                assertReply(reply, IcmpFamily.V4, InetAddress.getByName("127.0.0.1"), echo, bound.identifier());
            }
            // A ping socket that sends before anyone asked its identifier: the kernel bound it on send.
            try (IcmpSocket unasked = IcmpSocket.open(IcmpFamily.V6, IcmpSocket.Mode.DATAGRAM)) {
                Echo echo = Echo.random(0);
                ReceivedPacket reply = roundTrip(unasked, InetAddress.getByName("::1"), echo);
                assertReply(reply, IcmpFamily.V6, InetAddress.getByName("::1"), echo, unasked.identifier());
            }
        });
        assertEquals(hostRange, hostPingGroupRange(), "the host's ping_group_range is untouched");
    }

    // ---- helpers ----

    private static String hostPingGroupRange() throws IOException {
        // Not Files.readString: on this procfs file it returns only "1" (it reads in pieces, and a
        // sysctl file answers a read at a nonzero offset with end-of-file).
        return Files.readAllLines(PING_GROUP_RANGE).getFirst().trim();
    }

    private static ReceivedPacket roundTrip(IcmpSocket socket, InetAddress to, Echo echo) {
        ByteBuffer out = ByteBuffer.allocate(IcmpEcho.HEADER + PAYLOAD);
        IcmpEcho.write(out, socket.family().echoRequest(), echo.id(), echo.seq(), echo.cookie(), echo.key(), PAYLOAD);
        out.flip();
        return sendAndAwait(socket, to, out, echo);
    }

    /** Sends, then receives until the reply carrying this echo's cookie and key arrives (other ICMP is skipped). */
    private static ReceivedPacket sendAndAwait(IcmpSocket socket, InetAddress to, ByteBuffer out, Echo echo) {
        assertTrue(socket.send(to, out), "sent");
        ReceivedPacket packet = new ReceivedPacket();
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        try (Poller poller = new Poller(List.of(socket))) {
            while (System.nanoTime() < deadline) {
                poller.await(deadline - System.nanoTime());
                while (socket.receive(packet)) {
                    assertEquals(socket.family().echoReply(), IcmpEcho.type(packet.message(), packet.offset()),
                            "only echo replies reach the socket");
                    if (packet.length() >= IcmpEcho.HEADER + IcmpEcho.TAG
                            && IcmpEcho.cookie(packet.message(), packet.offset()) == echo.cookie()
                            && IcmpEcho.key(packet.message(), packet.offset()) == echo.key()) {
                        return packet;
                    }
                }
            }
        }
        return fail("no echo reply from " + to.getHostAddress() + " within 3 s");
    }

    private static void assertReply(ReceivedPacket reply, IcmpFamily family, InetAddress from, Echo echo,
                                    int expectedId) {
        ByteBuffer message = reply.message();
        int at = reply.offset();
        assertEquals(from, reply.source());
        assertTrue(reply.sourceIs(from.getAddress()));
        assertTrue(reply.ttl() > 0 && reply.ttl() <= 255, "ttl/hop limit " + reply.ttl());
        long now = Instant.now().toEpochMilli() * 1_000_000L;
        assertTrue(Math.abs(now - reply.kernelTimeNanos()) < Duration.ofSeconds(5).toNanos(),
                "kernel timestamp " + reply.kernelTimeNanos() + " vs now " + now);
        assertEquals(IcmpEcho.HEADER + PAYLOAD, reply.length(), "ICMP length without IP header");
        assertEquals(family.echoReply(), IcmpEcho.type(message, at));
        assertEquals(0, message.get(at + 1), "code");
        assertEquals(expectedId, IcmpEcho.id(message, at));
        assertEquals(echo.seq(), IcmpEcho.seq(message, at));
        assertEquals(echo.cookie(), IcmpEcho.cookie(message, at));
        assertEquals(echo.key(), IcmpEcho.key(message, at));
        for (int i = IcmpEcho.TAG; i < PAYLOAD; i++) {
            assertEquals((byte) i, message.get(at + IcmpEcho.HEADER + i), "fill byte " + i);
        }
    }

    private interface NamespaceWork {
        void run() throws Exception;
    }

    /**
     * Runs work on a platform thread inside a fresh network namespace with loopback up, optionally with
     * ping sockets allowed for every group there; the namespace is deleted afterwards.
     */
    private static void inNamespace(boolean allowPingSockets, NamespaceWork work) throws Exception {
        String name = "mimoping-icmp-" + ProcessHandle.current().pid() + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt());
        run("ip", "netns", "add", name);
        try {
            run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up");
            if (allowPingSockets) {
                run("ip", "netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647");
            }
            ExecutorService thread = Executors.newSingleThreadExecutor(r -> new Thread(r, "in-" + name));
            try {
                thread.submit(() -> {
                    NetworkNamespace.enterOnCurrentThread(name);
                    work.run();
                    return null;
                }).get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // Rethrow what the work threw (an assertion failure, a NativeException), not the wrapper.
                if (e.getCause() instanceof Error error) {
                    throw error;
                }
                throw (Exception) e.getCause();
            } finally {
                thread.shutdownNow();
            }
        } finally {
            run("ip", "netns", "del", name);
        }
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), String.join(" ", command) + " hangs");
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
    }
}
