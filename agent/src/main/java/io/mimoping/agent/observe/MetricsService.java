package io.mimoping.agent.observe;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.PathMatchers;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

/** {@code GET /metrics}: the process's {@link Metrics} in the Prometheus text format. */
public final class MetricsService implements HttpService {

    private final Metrics metrics;

    public MetricsService(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.exact("/metrics"),
                (req, res) -> res.header(HeaderNames.CONTENT_TYPE, Metrics.CONTENT_TYPE).send(metrics.scrape()));
    }
}
