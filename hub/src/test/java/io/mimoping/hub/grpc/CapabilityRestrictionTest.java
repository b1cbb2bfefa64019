package io.mimoping.hub.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.process.AgentMain;
import io.mimoping.hub.dispatch.TestHub;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Capabilities are detected, not declared: agent processes started without CAP_NET_RAW (setpriv drops it
 * from root), once where this host's {@code net.ipv4.ping_group_range} refuses datagram ICMP too, once inside a
 * network namespace of the test's own whose range allows it.
 */
class CapabilityRestrictionTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration HEARTBEAT = Duration.ofMillis(1000);
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void needsSetpriv() {
        assertTrue(Files.isExecutable(SETPRIV), "this test needs setpriv (util-linux) to drop CAP_NET_RAW");
    }

    @Test
    void anAgentWithNoWayToSendIcmpSaysSoAndTheHubRefusesTasksToIt() throws Exception {
        String range = pingGroupRange();
        String[] bounds = range.split("\\s+");
        assertTrue(Long.parseLong(bounds[0]) > Long.parseLong(bounds[1]),
                "the test expects datagram ICMP sockets to be refused here (empty ping_group_range), got '" + range + "'");
        String name = HubGrpcTest.agentName("noicmp");
        try (TestHub hub = new TestHub(engine, HEARTBEAT, "127.0.0.1", 0)) {
            Path log = Files.createTempFile("mimoping-agent-", ".log");
            Process agent = startAgent(List.of(), name, hub.addr(), TestHub.BROKER_URL, "127.0.0.1:0", log);
            try {
                JsonNode conn = HubGrpcTest.conns(http, hub, name);
                JsonNode capabilities = conn.get("capabilities");
                assertFalse(capabilities.isNull(), "detected: " + conn + "\nagent log:\n" + Files.readString(log));
                for (String family : List.of("ipv4", "ipv6")) {
                    JsonNode icmp = capabilities.get(family);
                    assertTrue(icmp.get("engine_socket").isNull(), family + ": " + icmp);
                    assertFalse(icmp.get("raw").get("available").asBoolean(), family + ": " + icmp);
                    assertTrue(icmp.get("raw").get("error").asText().contains("not permitted"), family + ": " + icmp);
                    assertFalse(icmp.get("datagram").get("available").asBoolean(), family + ": " + icmp);
                    assertTrue(icmp.get("unavailable").asText().contains("CAP_NET_RAW"), family + ": " + icmp);
                    assertTrue(icmp.get("unavailable").asText().contains("ping_group_range"), family + ": " + icmp);
                }

                HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create("http://" + hub.addr() + "/ping-task"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"from\":[\"hub\",\"" + name + "\"],\"targets\":[\"127.0.0.1\"]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(400, refused.statusCode(), refused.body());
                JsonNode error = JSON.readTree(refused.body()).get("error");
                assertEquals("unsupported", error.get("code").asText());
                assertEquals("from", error.get("field").asText());
                assertTrue(error.get("message").asText().startsWith("agent '" + name + "' can send no ICMP at all"),
                        error.toString());

                try (Grpcurl grpcurl = new Grpcurl(hub.addr(), Grpcurl.Reflection.V1)) {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> {
                        try (Context.CancellableContext context = Context.current().withCancellation()) {
                            grpcurl.stream("mimoping.v1.Hub/RunTask", "{\"from\":[\"" + name
                                    + "\"],\"targets\":[\"127.0.0.1\"]}", context).hasNext();
                        }
                    });
                    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
                    assertTrue(e.getStatus().getDescription().contains("can send no ICMP at all"), e.getMessage());
                }
            } finally {
                stop(agent);
                Files.deleteIfExists(log);
            }
        }
    }

    @Test
    void anAgentWithoutCapNetRawButAllowedByPingGroupRangeDetectsDatagramOnlyAndPings() throws Exception {
        try (TestNamespace ns = TestNamespace.create()) {
            String name = HubGrpcTest.agentName("dgram");
            try (TestHub hub = new TestHub(engine, HEARTBEAT, ns.host.getHostAddress(), 0);
                 TcpRelay broker = new TcpRelay(ns.host, new InetSocketAddress(InetAddress.getLoopbackAddress(), 5672))) {
                Path log = Files.createTempFile("mimoping-agent-", ".log");
                Process agent = startAgent(List.of("ip", "netns", "exec", ns.name), name, hub.addr(),
                        "amqp://guest:guest@" + ns.host.getHostAddress() + ":" + broker.port() + "/",
                        ns.inside.getHostAddress() + ":0", log);
                try {
                    JsonNode conn = HubGrpcTest.conns(http, hub, name);
                    JsonNode capabilities = conn.get("capabilities");
                    assertFalse(capabilities.isNull(), "detected: " + conn + "\nagent log:\n" + Files.readString(log));
                    assertTrue(conn.get("control_addr").asText().startsWith(ns.inside.getHostAddress() + ":"), conn.toString());
                    for (String family : List.of("ipv4", "ipv6")) {
                        JsonNode icmp = capabilities.get(family);
                        assertEquals("datagram", icmp.get("engine_socket").asText(), family + ": " + icmp);
                        assertFalse(icmp.get("raw").get("available").asBoolean(), family + ": " + icmp);
                        assertTrue(icmp.get("datagram").get("available").asBoolean(), family + ": " + icmp);
                        assertTrue(icmp.get("unavailable").isNull(), family + ": " + icmp);
                    }

                    // asked again through the hub, over the veth link into the namespace
                    try (Grpcurl grpcurl = new Grpcurl(hub.addr(), Grpcurl.Reflection.V1)) {
                        JsonNode asked = JSON.readTree(grpcurl.call("mimoping.v1.Hub/GetAgentCapabilities",
                                "{\"name\":\"" + name + "\"}"));
                        assertEquals("SOCKET_KIND_DATAGRAM", asked.get("ipv4").get("engine_socket").asText(), asked.toString());
                    }

                    // and it pings (its namespace's own loopback) with what it has
                    HttpResponse<String> task = http.send(HttpRequest.newBuilder(URI.create("http://" + hub.addr() + "/ping-task"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"from\":[\"" + name
                                    + "\"],\"targets\":[\"127.0.0.1\",\"::1\"],\"count\":3,\"interval\":50}"))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, task.statusCode(), task.body());
                    List<JsonNode> events = new ArrayList<>();
                    for (String line : task.body().split("\n")) {
                        if (!line.isBlank()) {
                            events.add(JSON.readTree(line));
                        }
                    }
                    JsonNode end = events.getLast().get("data");
                    assertEquals(6, end.get("received").asInt(), task.body());
                    assertEquals(0, end.get("errors").asInt(), task.body());
                } finally {
                    stop(agent);
                    Files.deleteIfExists(log);
                }
            }
        }
    }

    /** An agent process as root without CAP_NET_RAW, run through {@code prefix} (e.g. {@code ip netns exec NS}). */
    private static Process startAgent(List<String> prefix, String name, String hub, String broker, String control,
                                      Path log) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(SETPRIV.toString(), "--inh-caps=-net_raw", "--bounding-set=-net_raw",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), AgentMain.class.getName(),
                "--node-name", name, "--addr", hub, "--rabbitmq-broker-url", broker, "--control-addr", control));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    private static void stop(Process agent) throws InterruptedException {
        agent.destroy();
        if (!agent.waitFor(10, TimeUnit.SECONDS)) {
            agent.destroyForcibly().waitFor();
        }
    }

    private static String pingGroupRange() throws IOException {
        // procfs reports size 0: read it as a stream
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ping_group_range"))) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
    }

    /**
     * A network namespace joined to the root namespace by a veth pair on a /24 of 100.64.0.0/10 that no local
     * interface uses, with loopback up and {@code ping_group_range} open to every group.
     */
    private record TestNamespace(String name, String hostLink, InetAddress host, InetAddress inside) implements AutoCloseable {

        static TestNamespace create() throws Exception {
            String tag = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt(1 << 24), 6);
            int subnet = freeSubnet();
            TestNamespace ns = new TestNamespace("mimogrpc-" + ProcessHandle.current().pid() + "-" + tag, "mg" + tag + "h",
                    InetAddress.getByName("100.64." + subnet + ".1"), InetAddress.getByName("100.64." + subnet + ".2"));
            try {
                run("ip", "netns", "add", ns.name);
                run("ip", "link", "add", ns.hostLink, "type", "veth", "peer", "name", "mg" + tag + "n", "netns", ns.name);
                run("ip", "addr", "add", ns.host.getHostAddress() + "/24", "dev", ns.hostLink);
                run("ip", "link", "set", ns.hostLink, "up");
                run("ip", "-n", ns.name, "addr", "add", ns.inside.getHostAddress() + "/24", "dev", "mg" + tag + "n");
                run("ip", "-n", ns.name, "link", "set", "mg" + tag + "n", "up");
                run("ip", "-n", ns.name, "link", "set", "lo", "up");
                run("ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647");
                return ns;
            } catch (Exception e) {
                ns.close();
                throw e;
            }
        }

        private static int freeSubnet() throws IOException {
            List<Integer> used = new ArrayList<>();
            for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
                nic.inetAddresses().filter(a -> a instanceof Inet4Address)
                        .map(InetAddress::getAddress)
                        .filter(b -> (b[0] & 0xff) == 100 && (b[1] & 0xff) == 64)
                        .forEach(b -> used.add(b[2] & 0xff));
            }
            for (int attempt = 0; attempt < 100; attempt++) {
                int subnet = ThreadLocalRandom.current().nextInt(256);
                if (!used.contains(subnet)) {
                    return subnet;
                }
            }
            throw new IllegalStateException("no free /24 in 100.64.0.0/16: " + used);
        }

        private static void run(String... command) throws IOException, InterruptedException {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                fail(String.join(" ", command) + " failed: " + output);
            }
        }

        @Override
        public void close() throws Exception {
            if (Files.exists(Path.of("/var/run/netns", name))) {
                run("ip", "netns", "del", name); // takes the veth pair with it
            }
        }
    }
}
