package io.mimoping.hub.http;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.staticcontent.ClasspathHandlerConfig;
import io.helidon.webserver.staticcontent.StaticContentFeature;
import io.mimoping.hub.observe.ClientStreams;
import io.mimoping.hub.stream.TaskStore;

/**
 * What the hub serves to people and their programs beside the seed's API: background tasks and their
 * streams ({@link TasksService}, {@link TaskSocket}), the dashboard at {@code /}, the OpenAPI document at
 * {@code /openapi.yaml} with its browser at {@code /api/}, all from the classpath (no network needed).
 */
public final class ClientApi {

    private ClientApi() {
    }

    /** Registers the routes; the event streams are counted in {@code clients}. */
    public static void register(HttpRouting.Builder routing, TaskStore tasks, ClientStreams clients) {
        routing.register(new TasksService(tasks, clients));
        routing.register(TaskSocket.refusals(tasks));
        // a welcome file is found in a classpath folder, not in one inside a jar: the API page is named
        routing.get("/api", ClientApi::toApiPage).get("/api/", ClientApi::toApiPage);
        routing.register("/webjars", StaticContentFeature.createService(ClasspathHandlerConfig.builder()
                .location("META-INF/resources/webjars")
                .build()));
        routing.register("/", StaticContentFeature.createService(ClasspathHandlerConfig.builder()
                .location("web")
                .welcome("index.html")
                .putContentType("yaml", MediaTypes.create("application/yaml"))
                .build()));
    }

    private static void toApiPage(ServerRequest req, ServerResponse res) {
        res.status(Status.FOUND_302).header(HeaderNames.LOCATION, "/api/index.html").send();
    }
}
