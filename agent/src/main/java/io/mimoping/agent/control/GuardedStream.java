package io.mimoping.agent.control;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Context;
import io.grpc.Decompressor;
import io.grpc.DecompressorRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.http2.Http2FrameHeader;
import io.helidon.http.http2.Http2FrameTypes;
import io.helidon.http.http2.Http2RstStream;
import io.helidon.http.http2.Http2StreamState;
import io.helidon.http.http2.Http2WindowUpdate;
import io.helidon.webserver.http2.spi.Http2SubProtocolSelector.SubProtocolHandler;
import io.mimoping.agent.observe.RateLimitedLog;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One gRPC call's HTTP/2 stream, between the connection and Helidon's gRPC handler: frames the request
 * messages (a 5-byte prefix, compressed flag and length, then the message), checks each whole message, and
 * passes on only checked whole messages; the first bad one ends the call with its status (see
 * {@link GrpcGuard}). Runs on the stream's thread, as the handler it wraps.
 */
final class GuardedStream implements SubProtocolHandler {

    private static final int PREFIX = 5;
    private static final HeaderName GRPC_ENCODING = HeaderNames.create("grpc-encoding");

    private final SubProtocolHandler handler;
    private final Decompressor decompressor;
    private final int maxMessage;
    private final String method;
    private final String peer;
    private final RateLimitedLog log;
    private final byte[] prefix = new byte[PREFIX];

    /** The call Helidon started for this stream; {@code null} when it started none (an unknown method). */
    private volatile ServerCall<?, ?> call;
    private int prefixRead;
    private long messageLength;
    private ByteArrayOutputStream message;
    private boolean refused;

    GuardedStream(SubProtocolHandler handler, Headers headers, int maxMessage, String method, String peer,
                  RateLimitedLog log) {
        this.handler = handler;
        this.decompressor = headers.first(GRPC_ENCODING)
                .map(DecompressorRegistry.getDefaultInstance()::lookupDecompressor).orElse(null);
        this.maxMessage = maxMessage;
        this.method = method;
        this.peer = peer;
        this.log = log;
    }

    void attach(ServerCall<?, ?> call) {
        this.call = call;
    }

    @Override
    public void init() {
        Context.current().withValue(GrpcGuard.STREAM, this).run(handler::init);
    }

    @Override
    public Http2StreamState streamState() {
        return handler.streamState();
    }

    @Override
    public void rstStream(Http2RstStream rstStream) {
        handler.rstStream(rstStream);
    }

    @Override
    public void windowUpdate(Http2WindowUpdate update) {
        handler.windowUpdate(update);
    }

    @Override
    public void data(Http2FrameHeader header, BufferData data) {
        if (refused || call == null) {
            // after a refusal Helidon's handler only waits for the client to end its side
            handler.data(header, data);
            return;
        }
        ByteArrayOutputStream checked = new ByteArrayOutputStream();
        while (data.available() > 0) {
            if (prefixRead < PREFIX) {
                prefixRead += data.read(prefix, prefixRead, PREFIX - prefixRead);
                if (prefixRead < PREFIX) {
                    break;
                }
                messageLength = ((prefix[1] & 0xFFL) << 24) | ((prefix[2] & 0xFF) << 16) | ((prefix[3] & 0xFF) << 8)
                        | (prefix[4] & 0xFF);
                if (messageLength > maxMessage) {
                    refuse(header, Status.RESOURCE_EXHAUSTED.withDescription("a message of " + messageLength
                            + " bytes is over this server's limit of " + maxMessage + " bytes"));
                    return;
                }
                message = new ByteArrayOutputStream((int) Math.min(messageLength, 16 * 1024));
            }
            byte[] part = new byte[(int) Math.min(messageLength - message.size(), data.available())];
            data.read(part, 0, part.length);
            message.writeBytes(part);
            if (message.size() == messageLength) {
                byte[] bytes = message.toByteArray();
                Optional<Status> bad = check(prefix[0] != 0, bytes);
                if (bad.isPresent()) {
                    refuse(header, bad.get());
                    return;
                }
                checked.writeBytes(prefix);
                checked.writeBytes(bytes);
                prefixRead = 0;
                message = null;
            }
        }
        if (header.flags(Http2FrameTypes.DATA).endOfStream() && prefixRead > 0) {
            refuse(header, Status.INVALID_ARGUMENT.withDescription("the request ended inside a message: "
                    + (message == null ? prefixRead + " of its 5 prefix bytes" : message.size() + " of its "
                    + messageLength + " bytes") + " came"));
            return;
        }
        handler.data(header, BufferData.create(checked.toByteArray()));
    }

    /** Why the message cannot be passed on, as the status to end the call with; empty if it can. */
    private Optional<Status> check(boolean compressed, byte[] bytes) {
        InputStream in = new ByteArrayInputStream(bytes);
        if (compressed) {
            if (decompressor == null) {
                return Optional.of(Status.INTERNAL.withDescription(
                        "a compressed message, but the call names no grpc-encoding this server knows"));
            }
            byte[] plain;
            try (InputStream inflating = decompressor.decompress(in)) {
                plain = inflating.readNBytes(maxMessage + 1);
            } catch (IOException e) {
                return Optional.of(Status.INVALID_ARGUMENT.withDescription("the message does not decompress ("
                        + decompressor.getMessageEncoding() + "): " + e.getMessage()));
            }
            if (plain.length > maxMessage) {
                return Optional.of(Status.RESOURCE_EXHAUSTED.withDescription("a message decompressed to over this"
                        + " server's limit of " + maxMessage + " bytes"));
            }
            in = new ByteArrayInputStream(plain);
        }
        MethodDescriptor<?, ?> descriptor = call.getMethodDescriptor();
        Object request;
        try {
            request = descriptor.parseRequest(in);
        } catch (RuntimeException e) {
            return Optional.of(Status.INVALID_ARGUMENT.withDescription("not a valid " + typeName(descriptor) + ": "
                    + reason(e)));
        }
        return request instanceof Message parsed
                ? misTyped(parsed).map(what -> Status.INVALID_ARGUMENT.withDescription(what))
                : Optional.empty();
    }

    /** Ends the call with {@code status}, says so in one line, and passes on the end of the client's side if it came. */
    private void refuse(Http2FrameHeader header, Status status) {
        refused = true;
        message = null;
        log.info("refused gRPC messages", () -> "refused a message to " + method + " from " + peer + ": "
                + status.getCode() + ": " + status.getDescription());
        call.close(status, new Metadata());
        handler.data(header, BufferData.empty());
    }

    private static String typeName(MethodDescriptor<?, ?> descriptor) {
        return descriptor.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> prototype
                && prototype.getMessagePrototype() instanceof Message message
                ? message.getDescriptorForType().getFullName() : "request of " + descriptor.getFullMethodName();
    }

    /** The parser's own words: grpc-java wraps them in a status that only says "Invalid protobuf byte sequence". */
    private static String reason(RuntimeException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof InvalidProtocolBufferException invalid) {
                return invalid.getMessage();
            }
        }
        return e.getMessage();
    }

    /**
     * The first field of the message (or of a message it holds) that came with another wire type than its
     * type's: the parser keeps such a field among the unknown ones, as if it were from a newer schema. Fields of
     * numbers the schema does not know are let through, as protobuf does.
     */
    static Optional<String> misTyped(Message message) {
        Descriptor type = message.getDescriptorForType();
        for (Map.Entry<Integer, UnknownFieldSet.Field> unknown : message.getUnknownFields().asMap().entrySet()) {
            FieldDescriptor field = type.findFieldByNumber(unknown.getKey());
            if (field != null) {
                return Optional.of("field '" + field.getName() + "' (" + field.getNumber() + ") of " + type.getFullName()
                        + " is " + (field.isRepeated() ? "repeated " : "") + field.getType().name().toLowerCase()
                        + " but came as " + wireType(unknown.getValue()));
            }
        }
        for (Map.Entry<FieldDescriptor, Object> set : message.getAllFields().entrySet()) {
            if (set.getKey().getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                List<?> values = set.getKey().isRepeated() ? (List<?>) set.getValue() : List.of(set.getValue());
                for (Object value : values) {
                    Optional<String> inner = misTyped((Message) value);
                    if (inner.isPresent()) {
                        return inner;
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static String wireType(UnknownFieldSet.Field field) {
        if (!field.getVarintList().isEmpty()) {
            return "a varint";
        }
        if (!field.getFixed32List().isEmpty()) {
            return "a 32-bit value";
        }
        if (!field.getFixed64List().isEmpty()) {
            return "a 64-bit value";
        }
        return field.getLengthDelimitedList().isEmpty() ? "a group" : "length-delimited bytes";
    }
}
