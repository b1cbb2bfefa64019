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
import io.mimoping.hub.ws.Agent;
import io.mimoping.hub.ws.AgentRegistry;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.TreeMap;

/** {@code GET /conns}: the agents registered with this hub, sorted by name. */
public final class AgentsService implements HttpService {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final DateTimeFormatter RFC_3339_MICROS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(ZoneOffset.UTC);

    private final AgentRegistry registry;

    public AgentsService(AgentRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/conns", this::conns);
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
        }
        res.header(HeaderNames.CONTENT_TYPE, MediaTypes.APPLICATION_JSON.text());
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(agents.toString());
    }
}
