package io.mimoping.agent.control;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.proto.v1.AgentControlGrpc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad request messages on the agent's real control server, sent by grpc-java as raw bytes: an oversize one
 * gets RESOURCE_EXHAUSTED at once, bytes that are no valid message INVALID_ARGUMENT, in unary and streaming
 * calls; the log gets one line each and no stack trace, and the server goes on serving.
 */
class GrpcGuardTest {

    private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.INFO.intValue()) {
                logged.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private IcmpEngine engine;
    private ControlServer server;
    private ManagedChannel channel;

    @BeforeEach
    void start() {
        LogManager.getLogManager().getLogger("").addHandler(capture);
        engine = IcmpEngine.open(1);
        server = ControlServer.builder()
                .capabilities(new CapabilityDetector("a1", "9.9", Map.of(), engine, "Linux test", Instant.now(),
                        Clock.systemUTC()))
                .start();
        channel = Grpc.newChannelBuilder(server.address(), InsecureChannelCredentials.create()).build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
        engine.close();
        LogManager.getLogManager().getLogger("").removeHandler(capture);
    }

    private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor.MethodType type, String method) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type).setFullMethodName(method)
                .setRequestMarshaller(RAW).setResponseMarshaller(RAW).build();
    }

    private byte[] unary(String method, byte[] request) {
        return ClientCalls.blockingUnaryCall(channel, raw(MethodDescriptor.MethodType.UNARY, method),
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
    }

    private Status refusedUnary(String method, byte[] request) {
        return assertThrows(StatusRuntimeException.class, () -> unary(method, request)).getStatus();
    }

    /** The server answers, and says it serves (the channel is connected after this). */
    private void assertServing() {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(AgentControlGrpc.SERVICE_NAME).build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
    }

    /** What the guard logged, after checking that nothing at all logged a stack trace. */
    private List<String> guardLines() {
        for (LogRecord record : logged) {
            assertEquals(null, record.getThrown(), () -> "a stack trace from " + record.getLoggerName() + ": "
                    + record.getMessage());
        }
        return logged.stream().filter(r -> r.getLoggerName().equals(GrpcGuard.class.getName()))
                .map(LogRecord::getMessage).toList();
    }

    @Test
    void anOversizeMessageIsResourceExhaustedAtOnceNamingItsSizeAndTheLimit() {
        assertServing();
        long started = System.nanoTime();
        Status status = refusedUnary(AgentControlGrpc.getGetCapabilitiesMethod().getFullMethodName(), new byte[2_200_000]);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
        assertEquals("a message of 2200000 bytes is over this server's limit of 2097152 bytes", status.getDescription());
        // no status at all was the fault: the client waited until its own deadline
        assertTrue(millis < 3_000, "answered in " + millis + " ms");
        assertServing();
        List<String> lines = guardLines();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.getFirst().matches("refused a message to mimoping\\.v1\\.AgentControl/GetCapabilities from "
                + "127\\.0\\.0\\.1:\\d+: RESOURCE_EXHAUSTED: a message of 2200000 bytes is over .*"), lines.getFirst());
    }

    @Test
    void compressedMessagesAreCheckedAsTheyDecompress() {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withCompression("gzip")
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(AgentControlGrpc.SERVICE_NAME).build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus(), "a gzip request is served");

        // 3 MB of zeros: a few KB once compressed, over the limit once decompressed
        Status bomb = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel,
                raw(MethodDescriptor.MethodType.UNARY, HealthGrpc.getCheckMethod().getFullMethodName()),
                CallOptions.DEFAULT.withCompression("gzip").withDeadlineAfter(10, TimeUnit.SECONDS),
                new byte[3_000_000])).getStatus();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, bomb.getCode(), bomb.toString());
        assertEquals("a message decompressed to over this server's limit of 2097152 bytes", bomb.getDescription());
        assertServing();
        assertEquals(1, guardLines().size(), guardLines().toString());
    }

    @Test
    void bytesThatAreNoMessageAreInvalidArgumentNamingWhatFailed() {
        // field 1, length-delimited, says 16 bytes follow; one does
        Status truncated = refusedUnary(AgentControlGrpc.getGetCapabilitiesMethod().getFullMethodName(),
                new byte[] {0x0A, 0x10, 'a'});
        assertEquals(Status.Code.INVALID_ARGUMENT, truncated.getCode(), truncated.toString());
        assertTrue(truncated.getDescription().startsWith("not a valid mimoping.v1.GetCapabilitiesRequest: While parsing"
                + " a protocol message, the input ended unexpectedly"), truncated.getDescription());

        // field 1 of HealthCheckRequest is the string 'service': sent as a number here
        Status wrongType = refusedUnary(HealthGrpc.getCheckMethod().getFullMethodName(), new byte[] {0x08, 0x01});
        assertEquals(Status.Code.INVALID_ARGUMENT, wrongType.getCode(), wrongType.toString());
        assertEquals("field 'service' (1) of grpc.health.v1.HealthCheckRequest is string but came as a varint",
                wrongType.getDescription());

        assertServing();
        List<String> lines = guardLines();
        assertEquals(1, lines.size(), "the first at once; the second waits for the interval's count: " + lines);
        assertTrue(lines.getFirst().contains("INVALID_ARGUMENT: not a valid mimoping.v1.GetCapabilitiesRequest"),
                lines.getFirst());
    }

    @Test
    void aStreamingCallEndsAtItsFirstBadMessageWithItsStatus() throws Exception {
        BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        StreamObserver<byte[]> requests = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(raw(MethodDescriptor.MethodType.BIDI_STREAMING,
                        "grpc.reflection.v1.ServerReflection/ServerReflectionInfo"), CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answers.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        answers.add("completed");
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build().toByteArray());
        byte[] listed = (byte[]) answers.poll(10, TimeUnit.SECONDS);
        assertNotNull(listed, "the first, valid message is answered");
        assertTrue(ServerReflectionResponse.parseFrom(listed).getListServicesResponse().getServiceList().stream()
                .anyMatch(s -> s.getName().equals(AgentControlGrpc.SERVICE_NAME)));

        long started = System.nanoTime();
        requests.onNext(new byte[] {0x00}); // tag 0 is no field
        Object end = answers.poll(10, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        Status status = Status.fromThrowable(assertInstanceOf(StatusRuntimeException.class, end));
        assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode(), status.toString());
        assertEquals("not a valid grpc.reflection.v1.ServerReflectionRequest: Protocol message contained an invalid"
                + " tag (zero).", status.getDescription());
        // no status at all was the fault: the client waited until its own deadline
        assertTrue(millis < 3_000, "answered in " + millis + " ms");
        assertServing();
        assertEquals(1, guardLines().size(), guardLines().toString());
    }
}
