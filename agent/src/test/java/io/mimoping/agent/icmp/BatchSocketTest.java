package io.mimoping.agent.icmp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's batched socket path against the real kernel, on loopback: sendmmsg batches, recvmmsg
 * batches, transmit timestamps from the error queue, and the BPF filter on the identifier.
 */
class BatchSocketTest {

    private static final int PAYLOAD = 56;
    private static final long COOKIE = 0x62617463686564L;

    /** Writes echo request {@code i} (identifier {@code id}, key {@code i}) into the batch for a table entry. */
    private static void add(SendBatch batch, AddressTable table, int entry, IcmpFamily family, int id, int seq) {
        int i = batch.size();
        ByteBuffer out = batch.packets().duplicate().order(batch.packets().order());
        out.position(batch.offset(i));
        IcmpEcho.write(out, family.echoRequest(), id, seq, COOKIE, seq, PAYLOAD);
        batch.add(table, entry, IcmpEcho.HEADER + PAYLOAD);
    }

    /** Every echo reply the receive socket gets within a while, as (identifier, key) pairs. */
    private static List<long[]> collect(IcmpSocket rx, IcmpFamily family, int expected) throws InterruptedException {
        List<long[]> replies = new ArrayList<>();
        ReceivedPacket packet = new ReceivedPacket();
        try (ReceiveBatch receive = new ReceiveBatch(8); Poller poller = new Poller(List.of(rx))) {
            long deadline = System.nanoTime() + 2_000_000_000L;
            // Until the expected replies came, then 50 ms more for any that should not come.
            while (System.nanoTime() < deadline) {
                if (replies.size() >= expected) {
                    deadline = Math.min(deadline, System.nanoTime() + 50_000_000L);
                }
                poller.await(Math.min(100_000_000L, deadline - System.nanoTime()));
                int n;
                while ((n = receive.receive(rx)) > 0) {
                    for (int i = 0; i < n; i++) {
                        receive.packet(i, family, rx.mode(), packet);
                        assertEquals(family.echoReply(), IcmpEcho.type(packet.message(), packet.offset()));
                        replies.add(new long[] {IcmpEcho.id(packet.message(), packet.offset()),
                                IcmpEcho.key(packet.message(), packet.offset()), packet.kernelTimeNanos()});
                    }
                }
            }
            assertEquals(0, receive.drops(), "nothing dropped for a full buffer");
        }
        return replies;
    }

    @Test
    void aBatchGoesOutInOneCallAndOnlyRepliesForOurIdentifierComeBack() throws Exception {
        for (IcmpFamily family : IcmpFamily.values()) {
            InetAddress loopback = InetAddress.getByName(family == IcmpFamily.V4 ? "127.0.0.1" : "::1");
            int ours = ThreadLocalRandom.current().nextInt(1 << 16);
            int foreign = (ours + 1) & 0xffff;
            try (IcmpSocket tx = IcmpSocket.open(family, IcmpSocket.Mode.RAW);
                 IcmpSocket rx = IcmpSocket.open(family, IcmpSocket.Mode.RAW);
                 AddressTable table = new AddressTable(1);
                 SendBatch batch = new SendBatch(16, 200)) {
                tx.receiveNothing();
                rx.acceptOnly(family.echoReply());
                rx.acceptEchoRepliesWith(ours);
                rx.countDrops();
                table.set(0, loopback);
                // 16 requests in one sendmmsg, alternating between our identifier and another one.
                for (int seq = 0; seq < 16; seq++) {
                    add(batch, table, 0, family, seq % 2 == 0 ? ours : foreign, seq);
                }
                assertEquals(16, batch.send(tx, 0), "sent in one call");
                List<long[]> replies = collect(rx, family, 8);
                Set<Long> keys = new HashSet<>();
                for (long[] reply : replies) {
                    if (reply[0] == ours) {
                        keys.add(reply[1]);
                    }
                    assertEquals(ours, reply[0], "a reply to another identifier reached the filtered socket");
                }
                assertEquals(Set.of(0L, 2L, 4L, 6L, 8L, 10L, 12L, 14L), keys, family.label());
                // The send socket reads nothing: neither the replies nor the requests.
                try (ReceiveBatch receive = new ReceiveBatch(4)) {
                    assertEquals(0, receive.receive(tx), "the send-only socket queued something");
                }
            }
        }
    }

    @Test
    void theKernelStampsEveryTransmitWithItsCounter() throws Exception {
        for (IcmpFamily family : IcmpFamily.values()) {
            InetAddress loopback = InetAddress.getByName(family == IcmpFamily.V4 ? "127.0.0.1" : "::1");
            int id = ThreadLocalRandom.current().nextInt(1 << 16);
            try (IcmpSocket tx = IcmpSocket.open(family, IcmpSocket.Mode.RAW);
                 IcmpSocket rx = IcmpSocket.open(family, IcmpSocket.Mode.RAW);
                 AddressTable table = new AddressTable(1);
                 SendBatch batch = new SendBatch(16, 200);
                 TxTimestamps stamps = new TxTimestamps(64)) {
                tx.receiveNothing();
                tx.timestampTransmits(false);
                rx.acceptOnly(family.echoReply());
                rx.acceptEchoRepliesWith(id);
                table.set(0, loopback);
                long before = epochNanos();
                for (int round = 0; round < 2; round++) {
                    for (int seq = 0; seq < 10; seq++) {
                        add(batch, table, 0, family, id, round * 10 + seq);
                    }
                    assertEquals(10, batch.send(tx, 0));
                    batch.clear();
                }
                long after = epochNanos();
                int n = stamps.read(tx);
                assertEquals(20, n, family.label() + ": one stamp per message");
                for (int i = 0; i < n; i++) {
                    assertEquals(i, stamps.key(i), "counter of message " + i);
                    long stamp = stamps.stampNanos(i);
                    assertTrue(stamp >= before && stamp <= after, "stamp " + stamp + " outside [" + before + ", "
                            + after + "]");
                    if (i > 0) {
                        assertTrue(stamp >= stamps.stampNanos(i - 1), "stamps in send order");
                    }
                }
                assertEquals(0, stamps.read(tx), "the error queue is empty now");
                // And the replies carry kernel receive stamps after the transmit stamps.
                List<long[]> replies = collect(rx, family, 20);
                assertEquals(20, replies.size());
                for (long[] reply : replies) {
                    assertTrue(reply[2] >= before, "receive stamp");
                }
            }
        }
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
