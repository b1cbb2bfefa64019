package io.mimoping.hub.http;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerResponse;
import io.mimoping.hub.task.InvalidRequestException;

/** The one place that turns refused requests into {@code {"error":{"code","field","message"}}} responses. */
public final class ErrorResponses {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ErrorResponses() {
    }

    /** Registers the mapping on a routing. */
    public static void register(HttpRouting.Builder routing) {
        routing.error(RequestException.class, (req, res, e) -> send(res, e.status(), e.code(), e.field(), e.getMessage()))
                .error(InvalidRequestException.class,
                        (req, res, e) -> send(res, Status.BAD_REQUEST_400, e.code(), e.field(), e.getMessage()));
    }

    /**
     * For a path's other methods: {@code 405} with {@code Allow} and an error naming the method, not the server's
     * plain-text {@code 404}.
     */
    static Handler allowOnly(String... methods) {
        String allowed = String.join(", ", methods);
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, allowed);
            send(res, Status.METHOD_NOT_ALLOWED_405, "method_not_allowed", null, req.prologue().method().text()
                    + " is not allowed on " + req.path().path() + "; use " + allowed);
        };
    }

    static void send(ServerResponse res, Status status, String code, String field, String message) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode error = body.putObject("error");
        error.put("code", code);
        if (field == null) {
            error.putNull("field");
        } else {
            error.put("field", field);
        }
        error.put("message", message);
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, MediaTypes.APPLICATION_JSON.text());
        res.send(body.toString());
    }
}
