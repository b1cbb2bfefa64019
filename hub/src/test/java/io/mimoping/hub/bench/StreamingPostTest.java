package io.mimoping.hub.bench;

import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import io.helidon.webserver.WebServer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's own HTTP client over a real socket: lines cut across chunks come out whole, in order. */
@ServerTest
class StreamingPostTest {

    private static final String LONG = "x".repeat(100_000);

    private final WebServer server;

    StreamingPostTest(WebServer server) {
        this.server = server;
    }

    @SetUpRoute
    static void routes(HttpRules rules) {
        rules.post("/lines", (req, res) -> {
            String body = req.content().as(String.class);
            try (OutputStream out = res.outputStream()) {
                // each flush is a chunk of its own: lines start in one chunk and end in another
                for (String piece : new String[]{"{\"echo\":" + body + "}\nfir", "st\nsec", "ond\n\n", LONG + "\n", "last"}) {
                    out.write(piece.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
        rules.post("/refused", (req, res) -> res.status(Status.BAD_REQUEST_400).send("no"));
    }

    @Test
    void readsLinesCutAcrossChunks() throws IOException {
        List<String> lines = new ArrayList<>();
        try (StreamingPost post = new StreamingPost(server.port(), "/lines", "{\"n\":1}")) {
            for (String line = post.readLine(); line != null; line = post.readLine()) {
                lines.add(line);
            }
        }
        assertEquals(List.of("{\"echo\":{\"n\":1}}", "first", "second", "", LONG, "last"), lines);
    }

    @Test
    void aRefusedRequestIsAnErrorNamingTheStatus() {
        IOException refused = assertThrows(IOException.class,
                () -> new StreamingPost(server.port(), "/refused", "{}").close());
        assertTrue(refused.getMessage().contains("400"), refused.getMessage());
    }
}
