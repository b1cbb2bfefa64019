package io.mimoping.hub.http;

import io.helidon.common.media.type.MediaType;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.mimoping.hub.event.EventWriter;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRequestParser;
import io.mimoping.hub.task.TaskRunner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The seed-compatible API: {@code POST /ping-task} streams a task's events as NDJSON while it runs.
 * ({@code GET /conns} is {@link AgentsService}.)
 */
public final class PingTaskService implements HttpService {

    /** Largest request body accepted. */
    static final int MAX_BODY = 1 << 20;
    static final String NDJSON = "application/x-ndjson";

    private static final Logger LOG = Logger.getLogger(PingTaskService.class.getName());

    private final TaskRunner runner;
    private final TaskRequestParser parser = new TaskRequestParser();
    private final SecureRandom random = new SecureRandom();

    public PingTaskService(TaskRunner runner) {
        this.runner = runner;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/ping-task", this::pingTask);
    }

    private void pingTask(ServerRequest req, ServerResponse res) {
        checkMediaType(req.headers().contentType());
        TaskRequest request = parser.parse(readBody(req));
        runner.check(request);
        String taskId = HexFormat.of().toHexDigits(random.nextLong());
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, NDJSON);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        try (OutputStream out = res.outputStream()) {
            runner.run(taskId, request, new EventWriter(out, taskId));
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.FINE, e, () -> "task " + taskId + " stopped: the client went away");
        }
    }

    /**
     * JSON, or no type, or curl's default for {@code -d} (form-urlencoded, which the seed's users send):
     * the body is parsed as JSON in every case. Anything else is refused.
     */
    private static void checkMediaType(Optional<HttpMediaType> contentType) {
        if (contentType.isEmpty()) {
            return;
        }
        MediaType type = contentType.get().mediaType();
        boolean json = type.type().equals("application")
                && (type.subtype().equals("json") || type.subtype().endsWith("+json")
                || type.subtype().equals("x-www-form-urlencoded"));
        if (!json) {
            throw new RequestException(Status.UNSUPPORTED_MEDIA_TYPE_415, "unsupported_media_type", null,
                    "the body must be JSON (Content-Type: application/json), got " + type.text());
        }
    }

    private static byte[] readBody(ServerRequest req) {
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                throw new RequestException(Status.REQUEST_ENTITY_TOO_LARGE_413, "body_too_large", null,
                        "the body may be at most " + MAX_BODY + " bytes (1 MiB)");
            }
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
