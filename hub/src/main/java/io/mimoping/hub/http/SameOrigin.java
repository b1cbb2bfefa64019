package io.mimoping.hub.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Browsers may act on the hub only from its own pages: a request whose {@code Origin} header names another site
 * is refused (403 {@code forbidden_origin}) when it would change something (POST, DELETE, ...) or open a task's
 * WebSocket. Otherwise any page its operator opens could make the hub, and its agents, ping whatever that page
 * likes: a form-encoded POST needs no permission from the server, and the hub reads such a body as JSON, as the
 * seed's clients send it. Clients that send no {@code Origin} (curl, scripts) are not browsers.
 */
public final class SameOrigin {

    /** Methods that only read: a foreign page cannot read the answers without CORS, which the hub never grants. */
    private static final Set<Method> READS = Set.of(Method.GET, Method.HEAD, Method.OPTIONS);

    private SameOrigin() {
    }

    /** Refuses, on every route, a request from another site's page that is not a read. */
    public static void register(HttpRouting.Builder routing) {
        routing.addFilter((chain, req, res) -> {
            if (!READS.contains(req.prologue().method())) {
                Optional<String> foreign = foreign(req.headers());
                if (foreign.isPresent()) {
                    ErrorResponses.send(res, Status.FORBIDDEN_403, "forbidden_origin", "Origin", foreign.get());
                    return;
                }
            }
            chain.proceed();
        });
    }

    /** @throws RequestException 403 if the request comes from another site's page */
    static void check(Headers headers) {
        foreign(headers).ifPresent(why -> {
            throw new RequestException(Status.FORBIDDEN_403, "forbidden_origin", "Origin", why);
        });
    }

    /** Why the request is refused, if its {@code Origin} is not the {@code Host} it was sent to. */
    private static Optional<String> foreign(Headers headers) {
        Optional<String> origin = headers.first(HeaderNames.ORIGIN);
        if (origin.isEmpty() || same(origin.get(), headers.first(HeaderNames.HOST).orElse(""))) {
            return Optional.empty();
        }
        return Optional.of("browsers may use this hub only from its own pages, not from '" + origin.get() + "'");
    }

    private static boolean same(String origin, String host) {
        try {
            String authority = URI.create(origin).getRawAuthority();
            return authority != null && authority.toLowerCase(Locale.ROOT).equals(host.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
