package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerResponse;

/** The one place that turns refused requests into {@code {"error":{"code","field","message"}}} responses. */
public final class ErrorResponses {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ErrorResponses() {
    }

    /** Registers the mapping on a routing. */
    public static void register(HttpRouting.Builder routing) {
        routing.error(RequestException.class, (req, res, e) -> send(res, e));
    }

    private static void send(ServerResponse res, RequestException e) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        error.put("code", e.code());
        if (e.field() == null) {
            error.putNull("field");
        } else {
            error.put("field", e.field());
        }
        error.put("message", e.getMessage());
        res.status(e.status());
        res.header(HeaderNames.CONTENT_TYPE, MediaTypes.APPLICATION_JSON.text());
        res.send(body.toString());
    }
}
