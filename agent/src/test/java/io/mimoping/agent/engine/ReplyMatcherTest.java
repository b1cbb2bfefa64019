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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class ReplyMatcherTest {

    private static final long COOKIE = 0x6d696d6f70696e67L;
    private static final int ID = 0x4242;
    private static final int PAYLOAD = 56;
    /** Raw IPv4 sockets hand over the IP header too: the ICMP message starts after it. */
    private static final int IP_HEADER = 20;

    private final ReplyMatcher matcher = new ReplyMatcher(COOKIE);
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
    private final TargetRun v4 = new TargetRun(task, "127.0.0.1", address("127.0.0.1"), 0);
    private final TargetRun v6 = new TargetRun(task, "::1", address("::1"), 0);

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    private Probe remember(TargetRun target, long seq, long key) {
        Probe probe = new Probe(target, seq, key, 0, 0);
        matcher.remember(probe);
        return probe;
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

    private Probe matchV4(ReceivedPacket packet) {
        return matcher.match(packet, IcmpFamily.V4, ID, true);
    }

    @Test
    void aCorrectReplyMatchesItsProbe() {
        Probe probe = remember(v4, 0, 1000);
        Probe other = remember(v4, 1, 1001);
        assertSame(probe, matchV4(goodV4(0, 1000)));
        assertSame(other, matchV4(goodV4(1, 1001)));
        assertSame(probe, matchV4(goodV4(0, 1000)), "a repeated reply matches again (the probe tells duplicates)");
        assertEquals(0, matcher.ignored());
    }

    @Test
    void anIpv6ReplyMatchesOnTheIpv6Socket() {
        Probe probe = remember(v6, 0, 77);
        assertSame(probe, matcher.match(reply(IcmpFamily.V6, ID, 0, COOKIE, 77, "::1"), IcmpFamily.V6, ID, false));
        assertNull(matcher.match(reply(IcmpFamily.V4, ID, 0, COOKIE, 77, "::1"), IcmpFamily.V6, ID, false),
                "type 0 is no ICMPv6 echo reply");
        assertEquals(1, matcher.ignored());
    }

    @Test
    void theWrongTypeIsIgnored() {
        remember(v4, 0, 1000);
        ReceivedPacket request = withByte(goodV4(0, 1000), 0, IcmpFamily.V4.echoRequest());
        assertNull(matchV4(request), "our own echo request, as a raw socket sees it on loopback");
        assertNull(matchV4(withByte(goodV4(0, 1000), 0, IcmpFamily.V6.echoReply())));
        assertEquals(2, matcher.ignored());
    }

    @Test
    void aNonzeroCodeIsIgnored() {
        remember(v4, 0, 1000);
        assertNull(matchV4(withByte(goodV4(0, 1000), 1, 1)));
        assertEquals(1, matcher.ignored());
    }

    @Test
    void aBadChecksumIsIgnoredWhenVerifying() {
        Probe probe = remember(v4, 0, 1000);
        ReceivedPacket corrupted = goodV4(0, 1000);
        int lastByte = corrupted.offset() + corrupted.length() - 1;
        corrupted.message().put(lastByte, (byte) (corrupted.message().get(lastByte) ^ 0x01)); // fill byte flipped
        assertNull(matcher.match(corrupted, IcmpFamily.V4, ID, true));
        assertEquals(1, matcher.ignored());
        // Where the kernel verified the checksum already, the matcher does not look at it.
        assertSame(probe, matcher.match(corrupted, IcmpFamily.V4, ID, false));
        assertEquals(1, matcher.ignored());
    }

    @Test
    void anotherIdentifierIsIgnored() {
        remember(v4, 0, 1000);
        assertNull(matchV4(reply(IcmpFamily.V4, ID + 1, 0, COOKIE, 1000, "127.0.0.1")));
        assertEquals(1, matcher.ignored());
    }

    @Test
    void anotherCookieIsIgnored() {
        remember(v4, 0, 1000);
        assertNull(matchV4(reply(IcmpFamily.V4, ID, 0, COOKIE + 1, 1000, "127.0.0.1")),
                "another engine's reply, even with a key we know");
        assertEquals(1, matcher.ignored());
    }

    @Test
    void anUnknownOrForgottenKeyIsIgnored() {
        Probe probe = remember(v4, 0, 1000);
        assertNull(matchV4(goodV4(0, 999)));
        assertEquals(1, matcher.remembered());
        matcher.forget(probe);
        assertEquals(0, matcher.remembered());
        assertNull(matchV4(goodV4(0, 1000)), "forgotten");
        assertEquals(2, matcher.ignored());
    }

    @Test
    void anotherSequenceNumberIsIgnored() {
        remember(v4, 5, 1000);
        assertNull(matchV4(goodV4(6, 1000)));
        assertNull(matchV4(goodV4(4, 1000)));
        assertEquals(2, matcher.ignored());
    }

    @Test
    void theSequenceNumberIsComparedIn16Bits() {
        Probe probe = remember(v4, 70_000, 1000);
        ReceivedPacket reply = goodV4(70_000 & 0xffff, 1000);
        assertEquals(4464, IcmpEcho.seq(reply.message(), reply.offset()), "the wire carries 70000 mod 65536");
        assertSame(probe, matchV4(reply));
        assertEquals(0, matcher.ignored());
    }

    @Test
    void aReplyFromAnotherAddressIsIgnored() {
        remember(v4, 0, 1000);
        remember(v6, 0, 2000);
        assertNull(matchV4(reply(IcmpFamily.V4, ID, 0, COOKIE, 1000, "127.0.0.2")));
        assertNull(matcher.match(reply(IcmpFamily.V6, ID, 0, COOKIE, 2000, "::2"), IcmpFamily.V6, ID, false));
        // ::ffff:127.0.0.1 as the kernel gives it on an IPv6 socket: 16 bytes (Java would make it an IPv4 address).
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
        ReceivedPacket fromMapped = reply(IcmpFamily.V6, ID, 0, COOKIE, 1000, "::1");
        assertNull(matcher.match(ReceivedPacket.of(fromMapped.message(), fromMapped.offset(), fromMapped.length(),
                mapped, 64, 0), IcmpFamily.V6, ID, false), "an IPv6 reply for an IPv4 probe");
        assertEquals(3, matcher.ignored());
    }

    @Test
    void aMessageTooShortForCookieAndKeyIsIgnored() {
        remember(v4, 0, 1000);
        ReceivedPacket good = goodV4(0, 1000);
        int shortLength = IcmpEcho.HEADER + IcmpEcho.TAG - 1;
        ReceivedPacket truncated = ReceivedPacket.of(good.message(), good.offset(), shortLength,
                address("127.0.0.1").getAddress(), 64, 0);
        assertNull(matcher.match(truncated, IcmpFamily.V4, ID, false));
        assertNull(matcher.match(ReceivedPacket.of(good.message(), good.offset(), 0,
                address("127.0.0.1").getAddress(), 64, 0), IcmpFamily.V4, ID, false));
        assertEquals(2, matcher.ignored());
        // The smallest message that carries cookie and key is enough.
        ByteBuffer smallest = ByteBuffer.allocate(IcmpEcho.HEADER + IcmpEcho.TAG);
        IcmpEcho.write(smallest, IcmpFamily.V4.echoReply(), ID, 0, COOKIE, 1000, IcmpEcho.TAG);
        ReceivedPacket minimal = ReceivedPacket.of(smallest, 0, smallest.capacity(),
                address("127.0.0.1").getAddress(), 64, 0);
        assertEquals(1000, matcher.match(minimal, IcmpFamily.V4, ID, true).key);
    }
}
