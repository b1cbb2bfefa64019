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
        assertEquals("invalid control address 'nowhere': not HOST:PORT",
                assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("nowhere", "10.0.0.7:1")).getMessage());
        assertEquals("invalid control address '127.0.0.1:0': port out of range",
                assertThrows(IllegalArgumentException.class, () -> ControlTarget.of("127.0.0.1:0", "10.0.0.7:1")).getMessage());
    }
}
