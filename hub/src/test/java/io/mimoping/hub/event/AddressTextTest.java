package io.mimoping.hub.event;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressTextTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "0:0:0:0:0:0:0:1, ::1",
            "0:0:0:0:0:0:0:0, ::",
            "2001:db8:0:0:0:0:0:1, 2001:db8::1",
            "fe80:0:0:0:0:0:0:0, fe80::",
            "fe80:0:0:0:0:0:0:1, fe80::1",
            // §4.2.2: a single 16-bit zero field is not shortened to '::'
            "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
            "2001:db8:1:1:1:1:1:0, 2001:db8:1:1:1:1:1:0",
            // §4.2.3: the longest run is shortened...
            "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
            // ...and of equal runs the first one
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
            "0:0:1:0:0:1:0:0, ::1:0:0:1:0:0",
            // §4.1 leading zeros dropped, §4.3 lower case
            "2001:0DB8:0000:0000:0000:0000:ABCD:0001, 2001:db8::abcd:1",
            "1:2:3:4:5:6:7:8, 1:2:3:4:5:6:7:8",
            "0:0:0:0:0:0:7f00:1, ::7f00:1",
    })
    void writesIpv6AsRfc5952Says(String written, String expected) throws Exception {
        InetAddress address = InetAddress.getByName(written);
        assertTrue(address instanceof Inet6Address, "test input is IPv6: " + written);
        assertEquals(expected, AddressText.of(address));
    }

    @Test
    void leavesIpv4AsDottedQuad() throws Exception {
        assertEquals("127.0.0.1", AddressText.of(InetAddress.getByName("127.0.0.1")));
        assertEquals("10.0.0.255", AddressText.of(InetAddress.getByAddress(new byte[]{10, 0, 0, (byte) 255})));
    }

    @Test
    void keepsTheZone() throws Exception {
        byte[] linkLocal = InetAddress.getByName("fe80::1").getAddress();
        assertEquals("fe80::1%7", AddressText.of(Inet6Address.getByAddress(null, linkLocal, 7)));
        assertEquals("fe80::1", AddressText.of(Inet6Address.getByAddress(null, linkLocal, 0)), "scope 0 is no zone");
    }

    /** The rules checked on the text alone, for addresses with many zero runs of every length. */
    @Test
    void randomAddressesFollowEveryRule() throws Exception {
        Random random = new Random(5952);
        Pattern run = Pattern.compile("(?:^|:)(0(?::0)*)(?=:|$)");
        for (int n = 0; n < 20_000; n++) {
            byte[] bytes = new byte[16];
            for (int g = 0; g < 8; g++) {
                int group = random.nextInt(3) == 0 ? random.nextInt(1 << 16) : 0;
                bytes[2 * g] = (byte) (group >> 8);
                bytes[2 * g + 1] = (byte) group;
            }
            InetAddress address = InetAddress.getByAddress(bytes);
            if (!(address instanceof Inet6Address)) {
                continue; // IPv4-mapped: Java reads it as IPv4
            }
            String text = AddressText.of(address);
            String context = text + " for " + address.getHostAddress();
            assertEquals(address, InetAddress.getByName(text), "reads back as the same address: " + context);
            assertEquals(text.toLowerCase(), text, "lower case: " + context);
            assertTrue(text.indexOf("::") == text.lastIndexOf("::"), "at most one '::': " + context);
            assertFalse(text.matches(".*(^|:)0[0-9a-f].*"), "no leading zeros: " + context);
            int longestZeros = longestZeroRun(bytes);
            if (longestZeros >= 2) {
                assertTrue(text.contains("::"), "a run of " + longestZeros + " zero groups is shortened: " + context);
                int shortened = 8 - (text.equals("::") ? 0 : text.replace("::", ":").replaceAll("^:|:$", "").split(":").length);
                assertEquals(longestZeros, shortened, "the longest run is the one shortened: " + context);
                // No zero run written out is as long as the shortened one, unless it comes later.
                String before = text.substring(0, text.indexOf("::"));
                Matcher m = run.matcher(before);
                while (m.find()) {
                    int written = m.group(1).split(":").length;
                    assertTrue(written < longestZeros, "a run before '::' is shorter: " + context);
                }
            } else {
                assertFalse(text.contains("::"), "no '::' for a single zero group or none: " + context);
            }
        }
    }

    private static int longestZeroRun(byte[] bytes) {
        int best = 0;
        int current = 0;
        for (int g = 0; g < 8; g++) {
            boolean zero = bytes[2 * g] == 0 && bytes[2 * g + 1] == 0;
            current = zero ? current + 1 : 0;
            best = Math.max(best, current);
        }
        return best;
    }
}
