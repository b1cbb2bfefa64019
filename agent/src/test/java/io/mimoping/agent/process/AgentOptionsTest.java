package io.mimoping.agent.process;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AgentOptionsTest {

    private static final String[] REQUIRED = {"--node-name", "a1", "--addr", "127.0.0.1:8080",
            "--rabbitmq-broker-url", "amqp://guest:guest@127.0.0.1:5672/"};

    private static AgentOptions parse(String... more) {
        String[] args = new String[REQUIRED.length + more.length];
        System.arraycopy(REQUIRED, 0, args, 0, REQUIRED.length);
        System.arraycopy(more, 0, args, REQUIRED.length, more.length);
        return AgentOptions.parse(args, null);
    }

    @Test
    void theControlChannelListensOnLoopbackOnAFreePortByDefault() {
        assertEquals(new AgentOptions.ControlAddress("127.0.0.1", 0), parse().control());
    }

    @Test
    void controlAddressesAndLabelsAreRead() {
        AgentOptions options = parse("--control-addr", "0.0.0.0:7070", "--label", "site=lab", "--label=rack=r7");
        assertEquals(new AgentOptions.ControlAddress("0.0.0.0", 7070), options.control());
        assertEquals(Map.of("site", "lab", "rack", "r7"), options.labels());
        assertEquals(new AgentOptions.ControlAddress("::1", 0), parse("--control-addr=[::1]:0").control());
    }

    @Test
    void aBadControlAddressIsRefusedNamingIt() {
        for (String bad : new String[] {"7070", ":7070", "host:port", "127.0.0.1:70000"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("--control-addr", bad));
            assertEquals("--control-addr must be HOST:PORT (port 0..65535), got '" + bad + "'", e.getMessage());
        }
    }
}
