package io.mimoping.hub.bench;

import io.mimoping.bridge.probe.Reply;
import io.mimoping.hub.event.EventWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

class E2eBenchTest {

    /** The bench reads two fields from the text instead of parsing JSON: it must agree with the writer's lines. */
    @Test
    void readsTheReceiveTimeOfALineTheHubWrites() throws Exception {
        Instant sent = Instant.parse("2026-11-27T23:59:59.999876Z");
        long rtt = 1_234_000;
        for (String address : new String[]{"127.9.0.1", "::1"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            EventWriter writer = new EventWriter(out, "t1");
            writer.probe("agent-1", new Reply(address, InetAddress.getByName(address), 70_000, 64, 64, 7, rtt, sent,
                    Reply.Kind.FIRST));
            writer.flush();
            String line = out.toString(StandardCharsets.UTF_8).strip();
            long expected = sent.getEpochSecond() * 1_000_000_000L + sent.getNano() + rtt;
            assertEquals(expected, E2eBench.receivedEpochNanos(line), line);
        }
    }
}
