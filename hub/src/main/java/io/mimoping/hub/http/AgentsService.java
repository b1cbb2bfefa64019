package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.mimoping.bridge.control.AgentCapabilities;
import io.mimoping.hub.control.AgentControls;
import io.mimoping.hub.control.CapabilityState;
import io.mimoping.hub.ws.Agent;
import io.mimoping.hub.ws.AgentRegistry;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.TreeMap;

/**
 * {@code GET /conns}: the agents registered with this hub, sorted by name, with the capabilities their
 * control channels reported (or why there are none).
 */
public final class AgentsService implements HttpService {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final DateTimeFormatter RFC_3339_MICROS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(ZoneOffset.UTC);

    private final AgentRegistry registry;
    private final AgentControls controls;

    public AgentsService(AgentRegistry registry, AgentControls controls) {
        this.registry = registry;
        this.controls = controls;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/conns", this::conns)
                .any("/conns", ErrorResponses.allowOnly("GET"));
    }

    private void conns(ServerRequest req, ServerResponse res) {
        ArrayNode agents = JSON.createArrayNode();
        for (Agent agent : registry.list()) {
            ObjectNode node = agents.addObject()
                    .put("name", agent.name())
                    .put("remote_addr", agent.remoteAddress())
                    .put("connected_since", RFC_3339_MICROS.format(agent.connectedSince()))
                    .put("version", agent.version());
            ObjectNode labels = node.putObject("labels");
            new TreeMap<>(agent.labels()).forEach(labels::put);
            node.put("control_addr", agent.controlAddress());
            CapabilityState state = controls.state(agent);
            if (state instanceof CapabilityState.Detected(AgentCapabilities capabilities)) {
                capabilities(node.putObject("capabilities"), capabilities);
            } else {
                node.putNull("capabilities");
                node.put("capabilities_error", state.reason());
            }
        }
        res.header(HeaderNames.CONTENT_TYPE, MediaTypes.APPLICATION_JSON.text());
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(agents.toString());
    }

    private static void capabilities(ObjectNode node, AgentCapabilities c) {
        node.put("version", c.version()).put("host_name", c.hostName()).put("kernel", c.kernel());
        ObjectNode labels = node.putObject("labels");
        new TreeMap<>(c.labels()).forEach(labels::put);
        node.put("started_at", RFC_3339_MICROS.format(c.startedAt()))
                .put("uptime_s", c.uptime().toMillis() / 1000.0);
        icmp(node.putObject("ipv4"), c.ipv4());
        icmp(node.putObject("ipv6"), c.ipv6());
        node.putObject("limits").put("max_rate", c.limits().maxRate()).put("max_targets", c.limits().maxTargets())
                .put("shards", c.limits().shards());
        node.put("detected_at", RFC_3339_MICROS.format(c.detectedAt()));
    }

    private static void icmp(ObjectNode node, AgentCapabilities.Icmp icmp) {
        socket(node.putObject("raw"), icmp.raw());
        socket(node.putObject("datagram"), icmp.datagram());
        node.put("engine_socket", switch (icmp.engineSocket()) {
            case NONE -> null;
            case RAW -> "raw";
            case DATAGRAM -> "datagram";
        });
        node.put("unavailable", icmp.unavailable().orElse(null));
        icmp.timestamps().ifPresentOrElse(t -> node.putObject("timestamping")
                        .put("kernel_transmit", t.kernelTransmit()).put("kernel_receive", t.kernelReceive())
                        .put("detail", t.detail()),
                () -> node.putNull("timestamping"));
    }

    private static void socket(ObjectNode node, AgentCapabilities.SocketCheck check) {
        node.put("available", check.available());
        if (!check.available()) {
            node.put("error", check.error());
        }
    }
}
