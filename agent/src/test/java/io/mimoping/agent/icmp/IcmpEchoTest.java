package io.mimoping.agent.icmp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IcmpEchoTest {

    private static final long COOKIE = 0x0102030405060708L;
    private static final long KEY = 0x1112131415161718L;

    private static ByteBuffer hex(String hex) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(hex.replace(" ", "")));
    }

    @Test
    void writesTheEchoLayoutBigEndian() {
        ByteBuffer out = ByteBuffer.allocate(64);
        out.position(3); // the message starts at the buffer's position, not at 0
        IcmpEcho.write(out, IcmpFamily.V4.echoRequest(), 0xBEEF, 0x1234, COOKIE, KEY, 24);

        assertEquals(3 + IcmpEcho.HEADER + 24, out.position(), "position is left after the message");
        byte[] message = new byte[IcmpEcho.HEADER + 24];
        out.get(3, message);
        byte[] expected = HexFormat.of().parseHex(
                "08" + "00" + "0000" + "beef" + "1234"            // type, code, checksum (zeroed below), id, seq
                        + "0102030405060708"                        // cookie
                        + "1112131415161718"                        // key
                        + "1011121314151617");                      // fill: byte i at payload offset i
        message[2] = 0;
        message[3] = 0;
        assertArrayEquals(expected, message);
        assertEquals(0, out.get(0), "nothing written before the position");
        assertEquals(0, out.get(out.position()), "nothing written after the message");
    }

    @Test
    void fieldAccessorsReadBackWhatWasWritten() {
        ByteBuffer out = ByteBuffer.allocate(100);
        out.position(20);
        IcmpEcho.write(out, 0, 0xfffe, 0xabcd, -1L, Long.MIN_VALUE, 56);
        assertEquals(0, IcmpEcho.type(out, 20));
        assertEquals(0xfffe, IcmpEcho.id(out, 20));
        assertEquals(0xabcd, IcmpEcho.seq(out, 20));
        assertEquals(-1L, IcmpEcho.cookie(out, 20));
        assertEquals(Long.MIN_VALUE, IcmpEcho.key(out, 20));
    }

    @Test
    void identifierAndSequenceAreTruncatedTo16Bits() {
        ByteBuffer out = ByteBuffer.allocate(40);
        IcmpEcho.write(out, 8, 0x1BEEF, 70_000, COOKIE, KEY, 16);
        assertEquals(0xBEEF, IcmpEcho.id(out, 0));
        assertEquals(70_000 & 0xffff, IcmpEcho.seq(out, 0));
        assertEquals(0, IcmpEcho.checksum(out, 0, 32));
    }

    @Test
    void checksumOfTheRfc1071Example() {
        // RFC 1071, section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
        assertEquals(0x220d, IcmpEcho.checksum(hex("0001 f203 f4f5 f6f7"), 0, 8));
    }

    @Test
    void checksumFoldsCarriesBackIn() {
        assertEquals(0xfffe, IcmpEcho.checksum(hex("ffff 0001"), 0, 4)); // 0x10000 folds to 0x0001
        assertEquals(0x0000, IcmpEcho.checksum(hex("ffff ffff ffff"), 0, 6));
        assertEquals(0xffff, IcmpEcho.checksum(hex("0000 0000"), 0, 4));
        assertEquals(0xffff, IcmpEcho.checksum(hex(""), 0, 0));
    }

    @Test
    void checksumOfAnOddLengthPadsWithAZeroByte() {
        // 0001 + f200 = f201, complement 0dfe
        assertEquals(0x0dfe, IcmpEcho.checksum(hex("0001 f2"), 0, 3));
        assertEquals(IcmpEcho.checksum(hex("0001 f200"), 0, 4), IcmpEcho.checksum(hex("0001 f2"), 0, 3));
        // The byte after the range does not count, even when the buffer has one.
        assertEquals(0x0dfe, IcmpEcho.checksum(hex("0001 f2ff"), 0, 3));
    }

    @Test
    void checksumCountsOnlyItsRange() {
        ByteBuffer buffer = hex("ffff ffff 0001 f203 f4f5 f6f7 ffff");
        assertEquals(0x220d, IcmpEcho.checksum(buffer, 4, 8));
    }

    @Test
    void writtenMessagesSumToZeroForManySizes() {
        for (int payload = IcmpEcho.TAG; payload <= 1500; payload += 7) { // odd and even lengths
            ByteBuffer out = ByteBuffer.allocate(IcmpEcho.HEADER + payload + 1);
            out.position(1);
            IcmpEcho.write(out, 8, payload, payload * 3, COOKIE ^ payload, KEY + payload, payload);
            assertEquals(0, IcmpEcho.checksum(out, 1, IcmpEcho.HEADER + payload), "payload " + payload);
        }
    }

    @Test
    void aChangedByteBreaksTheChecksum() {
        ByteBuffer out = ByteBuffer.allocate(64);
        IcmpEcho.write(out, 0, 1, 2, COOKIE, KEY, 56);
        out.put(30, (byte) (out.get(30) ^ 0x10));
        assertNotEquals(0, IcmpEcho.checksum(out, 0, 64));
    }

    @Test
    void ipv6UsesTypes128And129() {
        assertEquals(128, IcmpFamily.V6.echoRequest());
        assertEquals(129, IcmpFamily.V6.echoReply());
        assertEquals(8, IcmpFamily.V4.echoRequest());
        assertEquals(0, IcmpFamily.V4.echoReply());

        // The kernel fills in the ICMPv6 checksum (it covers a pseudo-header we do not see); the rest is ours.
        ByteBuffer out = ByteBuffer.allocate(32);
        IcmpEcho.write(out, IcmpFamily.V6.echoRequest(), 0x0102, 0x0304, COOKIE, KEY, 24);
        assertEquals(0x80, out.get(0) & 0xff);
        assertEquals(128, IcmpEcho.type(out, 0));
        assertEquals(0, out.get(1));
        assertEquals(0x0102, IcmpEcho.id(out, 0));
        assertEquals(0x0304, IcmpEcho.seq(out, 0));
        assertEquals(COOKIE, IcmpEcho.cookie(out, 0));
        assertEquals(KEY, IcmpEcho.key(out, 0));
    }

    @Test
    void familyOfAnAddress() throws Exception {
        assertEquals(IcmpFamily.V4, IcmpFamily.of(InetAddress.getByName("127.0.0.1")));
        assertEquals(IcmpFamily.V6, IcmpFamily.of(InetAddress.getByName("::1")));
    }

    @Test
    void rejectsAPayloadTooShortForCookieAndKey() {
        ByteBuffer out = ByteBuffer.allocate(64);
        out.position(5);
        assertThrows(IllegalArgumentException.class, () -> IcmpEcho.write(out, 8, 1, 1, COOKIE, KEY, 15));
        assertThrows(IllegalArgumentException.class, () -> IcmpEcho.write(out, 8, 1, 1, COOKIE, KEY, 0));
        assertEquals(5, out.position(), "nothing written");
        assertArrayEquals(new byte[64], out.array(), "nothing written");
        IcmpEcho.write(out, 8, 1, 1, COOKIE, KEY, IcmpEcho.TAG); // the smallest allowed
        assertEquals(5 + IcmpEcho.HEADER + IcmpEcho.TAG, out.position());
    }
}
