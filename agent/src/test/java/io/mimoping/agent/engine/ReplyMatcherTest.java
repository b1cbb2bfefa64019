package io.mimoping.agent.engine;

import io.mimoping.agent.icmp.IcmpEcho;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.agent.icmp.ReceivedPacket;
import io.mimoping.bridge.probe.PingTask;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.ProbeListener;
import io.mimoping.bridge.probe.TaskTotals;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ReplyMatcherTest {

    private static final long COOKIE = 0x6d696d6f70696e67L;
    private static final int ID = 0x4242;
    private static final int PAYLOAD = 56;
    /** Raw IPv4 sockets hand over the IP header too: the ICMP message starts after it. */
    private static final int IP_HEADER = 20;

    private final ReplyMatcher matcher = new ReplyMatcher(COOKIE);
    private final SlotTable slots = new SlotTable();
    private final TaskRun task = new TaskRun(
            new PingTask("t", List.of("127.0.0.1", "::1"), Duration.ofSeconds(1), 3, Duration.ofSeconds(1), PAYLOAD),
            new ProbeListener() {
                @Override
                public void onEvent(ProbeEvent event) {
                }

                @Override
                public void onFinished(TaskTotals totals) {
                }
            }, 0);
    private final TaskPart v4 = part("127.0.0.1");
    private final TaskPart v6 = part("::1");

    private TaskPart part(String target) {
        return new TaskPart(task, new String[] {target}, new InetAddress[] {address(target)}, new int[] {0}, 1, 0);
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    /** A probe in flight: its slot; {@link #key(int)} is what its reply carries. */
    private int remember(TaskPart target, long seq) {
        return slots.allocate(target, 0, seq);
    }

    private long key(int slot) {
        return slots.key(slot);
    }

    /** The reply a target would send for a probe: an echo written at {@code IP_HEADER}, from that address. */
    private static ReceivedPacket reply(IcmpFamily family, int id, long seq, long cookie, long key, String from) {
        ByteBuffer buffer = ByteBuffer.allocate(IP_HEADER + IcmpEcho.HEADER + PAYLOAD);
        buffer.position(IP_HEADER);
        IcmpEcho.write(buffer, family.echoReply(), id, (int) seq, cookie, key, PAYLOAD);
        return ReceivedPacket.of(buffer, IP_HEADER, IcmpEcho.HEADER + PAYLOAD, address(from).getAddress(), 64, 0);
    }

    private static ReceivedPacket goodV4(long seq, long key) {
        return reply(IcmpFamily.V4, ID, seq, COOKIE, key, "127.0.0.1");
    }

    /** Changes one byte of the message and writes a correct checksum again, so only that byte is wrong. */
    private static ReceivedPacket withByte(ReceivedPacket packet, int index, int value) {
        ByteBuffer message = packet.message();
        int at = packet.offset();
        message.put(at + index, (byte) value);
        message.putShort(at + 2, (short) 0);
        message.putShort(at + 2, (short) IcmpEcho.checksum(message, at, packet.length()));
        return packet;
    }

    private int matchV4(ReceivedPacket packet) {
        return matcher.match(packet, IcmpFamily.V4, ID, true, slots);
    }

    private int match(ReceivedPacket packet, IcmpFamily family, boolean verify) {
        return matcher.match(packet, family, ID, verify, slots);
    }

    @Test
    void aCorrectReplyMatchesItsProbe() {
        int probe = remember(v4, 0);
        int other = remember(v4, 1);
        assertEquals(probe, matchV4(goodV4(0, key(probe))));
        assertEquals(other, matchV4(goodV4(1, key(other))));
        assertEquals(probe, matchV4(goodV4(0, key(probe))), "a repeated reply matches again (the slot tells duplicates)");
        assertEquals(0, matcher.ignored());
    }

    @Test
    void anIpv6ReplyMatchesOnTheIpv6Socket() {
        int probe = remember(v6, 0);
        assertEquals(probe, match(reply(IcmpFamily.V6, ID, 0, COOKIE, key(probe), "::1"), IcmpFamily.V6, false));
        assertEquals(-1, match(reply(IcmpFamily.V4, ID, 0, COOKIE, key(probe), "::1"), IcmpFamily.V6, false),
                "type 0 is no ICMPv6 echo reply");
        assertEquals(1, matcher.ignored());
    }

    @Test
    void theWrongTypeIsIgnored() {
        long key = key(remember(v4, 0));
        ReceivedPacket request = withByte(goodV4(0, key), 0, IcmpFamily.V4.echoRequest());
        assertEquals(-1, matchV4(request), "our own echo request, as a raw socket sees it on loopback");
        assertEquals(-1, matchV4(withByte(goodV4(0, key), 0, IcmpFamily.V6.echoReply())));
        assertEquals(2, matcher.ignored());
    }

    @Test
    void aNonzeroCodeIsIgnored() {
        long key = key(remember(v4, 0));
        assertEquals(-1, matchV4(withByte(goodV4(0, key), 1, 1)));
        assertEquals(1, matcher.ignored());
    }

    @Test
    void aBadChecksumIsIgnoredWhenVerifying() {
        int probe = remember(v4, 0);
        ReceivedPacket corrupted = goodV4(0, key(probe));
        int lastByte = corrupted.offset() + corrupted.length() - 1;
        corrupted.message().put(lastByte, (byte) (corrupted.message().get(lastByte) ^ 0x01)); // fill byte flipped
        assertEquals(-1, match(corrupted, IcmpFamily.V4, true));
        assertEquals(1, matcher.ignored());
        // Where the kernel verified the checksum already, the matcher does not look at it.
        assertEquals(probe, match(corrupted, IcmpFamily.V4, false));
        assertEquals(1, matcher.ignored());
    }

    @Test
    void anotherIdentifierIsIgnored() {
        long key = key(remember(v4, 0));
        assertEquals(-1, matchV4(reply(IcmpFamily.V4, ID + 1, 0, COOKIE, key, "127.0.0.1")));
        assertEquals(1, matcher.ignored());
    }

    @Test
    void anotherCookieIsIgnored() {
        long key = key(remember(v4, 0));
        assertEquals(-1, matchV4(reply(IcmpFamily.V4, ID, 0, COOKIE + 1, key, "127.0.0.1")),
                "another engine's reply, even with a key we know");
        assertEquals(1, matcher.ignored());
    }

    @Test
    void anUnknownFreedOrReusedKeyIsIgnored() {
        int probe = remember(v4, 0);
        long key = key(probe);
        assertEquals(-1, matchV4(goodV4(0, key + 1)), "a slot never taken");
        assertEquals(-1, matchV4(goodV4(0, key ^ (1L << 32))), "another generation of the slot");
        assertEquals(1, slots.inUse());
        slots.release(probe);
        assertEquals(0, slots.inUse());
        assertEquals(-1, matchV4(goodV4(0, key)), "freed");
        int reused = remember(v4, 0);
        assertEquals(probe, reused, "the slot is taken again");
        assertEquals(-1, matchV4(goodV4(0, key)), "a reply to the slot's previous probe does not match its new one");
        assertEquals(reused, matchV4(goodV4(0, key(reused))));
        assertEquals(4, matcher.ignored());
    }

    @Test
    void anotherSequenceNumberIsIgnored() {
        long key = key(remember(v4, 5));
        assertEquals(-1, matchV4(goodV4(6, key)));
        assertEquals(-1, matchV4(goodV4(4, key)));
        assertEquals(2, matcher.ignored());
    }

    @Test
    void theSequenceNumberIsComparedIn16Bits() {
        int probe = remember(v4, 70_000);
        ReceivedPacket reply = goodV4(70_000 & 0xffff, key(probe));
        assertEquals(4464, IcmpEcho.seq(reply.message(), reply.offset()), "the wire carries 70000 mod 65536");
        assertEquals(probe, matchV4(reply));
        assertEquals(0, matcher.ignored());
    }

    @Test
    void aReplyFromAnotherAddressIsIgnored() {
        long key4 = key(remember(v4, 0));
        long key6 = key(remember(v6, 0));
        assertEquals(-1, matchV4(reply(IcmpFamily.V4, ID, 0, COOKIE, key4, "127.0.0.2")));
        assertEquals(-1, match(reply(IcmpFamily.V6, ID, 0, COOKIE, key6, "::2"), IcmpFamily.V6, false));
        // ::ffff:127.0.0.1 as the kernel gives it on an IPv6 socket: 16 bytes (Java would make it an IPv4 address).
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
        ReceivedPacket fromMapped = reply(IcmpFamily.V6, ID, 0, COOKIE, key4, "::1");
        assertEquals(-1, match(ReceivedPacket.of(fromMapped.message(), fromMapped.offset(), fromMapped.length(),
                mapped, 64, 0), IcmpFamily.V6, false), "an IPv6 reply for an IPv4 probe");
        assertEquals(3, matcher.ignored());
    }

    @Test
    void aMessageTooShortForCookieAndKeyIsIgnored() {
        int probe = remember(v4, 0);
        ReceivedPacket good = goodV4(0, key(probe));
        int shortLength = IcmpEcho.HEADER + IcmpEcho.TAG - 1;
        ReceivedPacket truncated = ReceivedPacket.of(good.message(), good.offset(), shortLength,
                address("127.0.0.1").getAddress(), 64, 0);
        assertEquals(-1, match(truncated, IcmpFamily.V4, false));
        assertEquals(-1, match(ReceivedPacket.of(good.message(), good.offset(), 0,
                address("127.0.0.1").getAddress(), 64, 0), IcmpFamily.V4, false));
        assertEquals(2, matcher.ignored());
        // The smallest message that carries cookie and key is enough.
        ByteBuffer smallest = ByteBuffer.allocate(IcmpEcho.HEADER + IcmpEcho.TAG);
        IcmpEcho.write(smallest, IcmpFamily.V4.echoReply(), ID, 0, COOKIE, key(probe), IcmpEcho.TAG);
        ReceivedPacket minimal = ReceivedPacket.of(smallest, 0, smallest.capacity(),
                address("127.0.0.1").getAddress(), 64, 0);
        assertEquals(probe, match(minimal, IcmpFamily.V4, true));
    }
}
