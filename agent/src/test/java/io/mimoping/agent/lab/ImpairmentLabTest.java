package io.mimoping.agent.lab;

import io.mimoping.agent.icmp.IcmpFamily;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab builds its network, keeps labs apart and leaves nothing behind. */
class ImpairmentLabTest {

    private static final Path NAMESPACES = Path.of("/var/run/netns");

    @Test
    void removesItsNamespaceAndLinksWhenClosed() {
        String namespace;
        String link;
        try (ImpairmentLab lab = ImpairmentLab.open(2)) {
            namespace = lab.namespace();
            link = lab.hostLink();
            assertTrue(Files.exists(NAMESPACES.resolve(namespace)), namespace);
            assertTrue(Files.exists(Path.of("/sys/class/net", link)), link);
        }
        assertFalse(Files.exists(NAMESPACES.resolve(namespace)), namespace + " left behind");
        assertFalse(Files.exists(Path.of("/sys/class/net", link)), link + " left behind");
    }

    @Test
    void givesLabsOpenAtOnceTheirOwnNamesAndSubnets() {
        try (ImpairmentLab one = ImpairmentLab.open(1); ImpairmentLab two = ImpairmentLab.open(1)) {
            assertNotEquals(one.namespace(), two.namespace());
            for (IcmpFamily family : IcmpFamily.values()) {
                assertNotEquals(one.target(family, 0), two.target(family, 0));
            }
        }
    }

    @Test
    void removesALabWhoseProcessIsGone() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String abandoned = "mimolab-" + gone.pid() + "-0";
        Commands.run("", List.of("ip", "netns", "add", abandoned));
        try {
            ImpairmentLab.open(1).close();
            assertFalse(Files.exists(NAMESPACES.resolve(abandoned)), abandoned + " still there");
        } finally {
            if (Files.exists(NAMESPACES.resolve(abandoned))) {
                Commands.run("", List.of("ip", "netns", "del", abandoned));
            }
        }
    }
}
