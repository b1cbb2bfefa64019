package io.mimoping.hub.control;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ControlTargetTest {

    @Test
    void theAnnouncedAddressIsDialledAsItIs() {
        assertEquals(new ControlTarget("127.0.0.1", 40411), ControlTarget.of("127.0.0.1:40411", "127.0.0.1:5000"));
        assertEquals(new ControlTarget("::1", 7070), ControlTarget.of("[::1]:7070", "[::1]:5000"));
        assertEquals("[::1]:7070", ControlTarget.of("[::1]:7070", "[::1]:5000").text());
    }

    @Test
    void aWildcardHostIsTheHostTheAgentRegisteredFrom() {
        assertEquals(new ControlTarget("10.0.0.7", 7070), ControlTarget.of("0.0.0.0:7070", "10.0.0.7:51234"));
        assertEquals(new ControlTarget("2001:db8::7", 7070), ControlTarget.of("[::]:7070", "[2001:db8::7]:51234"));
    }

    @Test
    void aBrokenAddressIsRefusedNamingIt() {
        assertEquals("invalid control address 'nowhere': must be HOST:PORT, got 'nowhere'",
                assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("nowhere", "10.0.0.7:1")).getMessage());
        assertEquals("invalid control address '127.0.0.1:0': port out of range",
                assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("127.0.0.1:0", "10.0.0.7:1")).getMessage());
    }

    @Test
    void aLoopbackAddressAnnouncedFromAnotherHostIsRefusedWithAHint() {
        assertEquals("the agent announces the loopback control address 127.0.0.1:7070 but registered from 10.0.0.5; "
                        + "set its control-addr to an address the hub can reach",
                assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("127.0.0.1:7070", "10.0.0.5:40000"))
                        .getMessage());
        assertEquals("the agent announces the loopback control address [::1]:7070 but registered from 2001:db8::7; "
                        + "set its control-addr to an address the hub can reach",
                assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("[::1]:7070", "[2001:db8::7]:40000"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("localhost:7070", "10.0.0.5:40000"));
        assertEquals(new ControlTarget("127.0.0.2", 7070), ControlTarget.of("127.0.0.2:7070", "127.0.0.1:40000"),
                "from the hub's own host, loopback is the agent's");
        assertEquals(new ControlTarget("agent-1.example", 7070), ControlTarget.of("agent-1.example:7070", "10.0.0.5:40000"),
                "a host name is dialled as it is");
    }
}
