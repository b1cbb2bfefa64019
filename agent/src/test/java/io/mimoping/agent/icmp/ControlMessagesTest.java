package io.mimoping.agent.icmp;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The control-message walk on buffers laid out as the kernel lays them out (64-bit Linux). */
class ControlMessagesTest {

    private static final int START = 8;

    /** A receive's control buffer: a timestamp (32 bytes), a TTL (20, padded to 24), then {@code tail}. */
    private static ByteBuffer received(long tailLength) {
        ByteBuffer buffer = ByteBuffer.allocate(128).order(ByteOrder.nativeOrder());
        buffer.putLong(START, 32).putInt(START + 8, LibC.SOL_SOCKET).putInt(START + 12, LibC.SO_TIMESTAMPNS)
                .putLong(START + 16, 1_764_219_173L).putLong(START + 24, 302_487_123L);
        buffer.putLong(START + 32, 20).putInt(START + 40, LibC.IPPROTO_IP).putInt(START + 44, LibC.IP_TTL)
                .putInt(START + 48, 57);
        buffer.putLong(START + 56, tailLength).putInt(START + 64, LibC.SOL_SOCKET).putInt(START + 68, LibC.SO_RXQ_OVFL)
                .putInt(START + 72, 3);
        return buffer;
    }

    private static List<String> walk(ByteBuffer buffer, long controlLength) {
        List<String> seen = new ArrayList<>();
        for (ControlMessages m = new ControlMessages(buffer).of(START, controlLength); m.next(); ) {
            seen.add(m.level() + "/" + m.type() + "@" + (m.data() - START));
        }
        return seen;
    }

    @Test
    void readsEachMessageAtItsPaddedPlace() {
        ByteBuffer buffer = received(20);
        List<String> expected = List.of(LibC.SOL_SOCKET + "/" + LibC.SO_TIMESTAMPNS + "@16",
                LibC.IPPROTO_IP + "/" + LibC.IP_TTL + "@48", LibC.SOL_SOCKET + "/" + LibC.SO_RXQ_OVFL + "@72");
        assertEquals(expected, walk(buffer, 76));
        ControlMessages first = new ControlMessages(buffer).of(START, 76);
        first.next();
        assertEquals(1_764_219_173_302_487_123L, first.timespecNanos());
    }

    @Test
    void stopsAtTheControlLengthTheKernelSet() {
        // the third header does not fit in 70 bytes (truncated, MSG_CTRUNC): two messages only
        assertEquals(2, walk(received(20), 70).size());
        assertEquals(0, walk(received(20), 15).size());
    }

    @Test
    void stopsAtAHeaderShorterThanAHeader() {
        // a zero length would loop for ever; any length under 16 is malformed
        assertEquals(2, walk(received(0), 76).size());
        assertEquals(2, walk(received(15), 76).size());
    }
}
