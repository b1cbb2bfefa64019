package io.mimoping.hub.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.mimoping.hub.event.EventWriter;
import io.mimoping.hub.observe.ClientStreams;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRequestParser;
import io.mimoping.hub.task.TaskRunner;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The seed-compatible API: {@code POST /ping-task} streams a task's events as NDJSON while it runs.
 * ({@code GET /conns} is {@link AgentsService}.)
 */
public final class PingTaskService implements HttpService {

    static final String NDJSON = "application/x-ndjson";

    private static final Logger LOG = Logger.getLogger(PingTaskService.class.getName());

    private final TaskRunner runner;
    private final TaskRequestParser parser = new TaskRequestParser();
    private final SecureRandom random = new SecureRandom();
    private final ClientStreams clients;

    /** Counts its streams in {@code clients}. */
    public PingTaskService(TaskRunner runner, ClientStreams clients) {
        this.runner = runner;
        this.clients = clients;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/ping-task", this::pingTask)
                .any("/ping-task", ErrorResponses.allowOnly("POST"));
    }

    private void pingTask(ServerRequest req, ServerResponse res) {
        TaskRequest request = parser.parse(JsonBody.read(req));
        runner.check(request);
        String taskId = HexFormat.of().toHexDigits(random.nextLong());
        res.status(Status.OK_200);
        res.header(HeaderNames.CONTENT_TYPE, NDJSON);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        try (ClientStreams.Stream stream = clients.open(ClientStreams.Transport.NDJSON);
             OutputStream out = res.outputStream()) {
            runner.run(taskId, request, new EventWriter(out, taskId));
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.FINE, e, () -> "task " + taskId + " stopped: the client went away");
        }
    }
}
