package io.mimoping.hub.http;

import io.helidon.common.media.type.MediaType;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.OptionalLong;

/** The JSON body of a task request ({@code POST /ping-task}, {@code POST /tasks}), refused early if it cannot be one. */
final class JsonBody {

    /** Largest request body accepted. */
    static final int MAX_BODY = 1 << 20;

    private JsonBody() {
    }

    /** The body's bytes, after checking its media type and size. */
    static byte[] read(ServerRequest req) {
        checkMediaType(req.headers().contentType());
        return readBody(req);
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
        OptionalLong length = req.headers().contentLength();
        try (InputStream in = req.content().inputStream()) {
            // the announced length when it fits: reading up to the limit made 16 KB of garbage per request
            byte[] body = in.readNBytes(length.isPresent() && length.getAsLong() <= MAX_BODY
                    ? (int) length.getAsLong() : MAX_BODY + 1);
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
