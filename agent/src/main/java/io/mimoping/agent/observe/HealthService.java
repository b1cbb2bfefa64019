package io.mimoping.agent.observe;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.PathMatchers;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerResponse;

import java.util.List;
import java.util.function.Supplier;

/**
 * {@code GET /health/live} and {@code GET /health/ready}: {@code 200} with {@code {"status":"UP",...}} when
 * the checks hold, {@code 503} with {@code "DOWN"} and the failing checks' reasons otherwise.
 */
public final class HealthService implements HttpService {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Supplier<Health> health;

    public HealthService(Supplier<Health> health) {
        this.health = health;
    }

    @Override
    public void routing(HttpRules rules) {
        // HEAD too: load balancers probe with it
        rules.route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.exact("/health/live"),
                        (req, res) -> answer(res, health.get(), false))
                .route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.exact("/health/ready"),
                        (req, res) -> answer(res, health.get(), true));
    }

    private static void answer(ServerResponse res, Health health, boolean readiness) {
        boolean up = readiness ? health.ready() : health.live();
        ObjectNode body = JSON.createObjectNode().put("status", up ? "UP" : "DOWN").put("detail", health.status());
        ObjectNode checks = body.putObject("checks");
        add(checks, health.liveness());
        if (readiness) {
            add(checks, health.readiness());
        }
        res.status(up ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503)
                .header(HeaderValues.CONTENT_TYPE_JSON)
                .header(HeaderNames.CACHE_CONTROL, "no-store")
                .send(body.toString());
    }

    private static void add(ObjectNode checks, List<Health.Check> list) {
        for (Health.Check check : list) {
            checks.putObject(check.name()).put("status", check.ok() ? "UP" : "DOWN").put("detail", check.detail());
        }
    }
}
