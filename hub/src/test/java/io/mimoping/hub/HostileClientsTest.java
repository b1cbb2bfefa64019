package io.mimoping.hub;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.ListAgentsRequest;
import io.mimoping.proto.v1.RunTaskRequest;
import io.mimoping.proto.v1.TaskEvent;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hub process prints when clients misbehave: clients that hang up mid-request, gRPC messages too large
 * or malformed, agents with a wrong token. Each gets its answer, the log gets a line (or a count) and no stack
 * trace, and the hub serves on.
 */
class HostileClientsTest {

    /** A request as a client sends it, as raw bytes: what a custom client may put on the wire. */
    /** How long a hub may take to start and say where it listens. */
    private static final Duration START = Duration.ofSeconds(60);

    private static final MethodDescriptor.Marshaller<byte[]> RAW_BYTES = new MethodDescriptor.Marshaller<>() {
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

    /** Lines no misbehaving client should cause: warnings, errors, stack traces. */
    private static List<String> alarming(ChildJvm hub) {
        return hub.lines().stream().filter(line -> line.contains("WARNING") || line.contains("SEVERE")
                || line.contains("Exception") || line.startsWith("\tat ")).toList();
    }

    /** {@code mimoping hub ARGS} as a process of its own, on a free loopback port. */
    private static ChildJvm hub(String... args) {
        List<String> all = new ArrayList<>(List.of("--addr", "127.0.0.1:0"));
        all.addAll(List.of(args));
        return ChildJvm.start(Main.class, Map.of(), all);
    }

    @Test
    void fiveHundredClientsThatHangUpMidRequestLeaveNoWarningAndTheHubServesOn() throws Exception {
        List<String> halves = List.of(
                "",                                                    // connect and close
                "GET /con",                                            // half a request line
                "GET /conns HTTP/1.1\r\nHost: hub\r\n",                // headers never ended
                "POST /ping-task HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                        + "{\"targets\":",                             // a body shorter than it said
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");                   // HTTP/2's preface, then nothing
        try (ChildJvm hub = hub(); HttpClient http = HttpClient.newHttpClient()) {
            for (int i = 0; i < 500; i++) {
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), hub.port(START))) {
                    OutputStream out = socket.getOutputStream();
                    out.write(halves.get(i % halves.size()).getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
            HttpResponse<String> conns = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port(START)
                    + "/conns")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, conns.statusCode(), conns.body());
            assertEquals("[]", conns.body());
            // What is looked for is a line that must not come: give the hub's connection threads, which each
            // see their client gone at once, time to have logged whatever they would.
            Thread.sleep(2_000);
            assertEquals(List.of(), alarming(hub));
        }
    }

    @Test
    void grpcMessagesTooLargeOrMalformedGetTheirStatusAtOnceAndOneLogLine() throws Exception {
        try (ChildJvm hub = hub()) {
            ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + hub.port(START), InsecureChannelCredentials.create())
                    .build();
            try {
                HubGrpc.HubBlockingStub stub = HubGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                assertEquals(0, stub.listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsCount());

                RunTaskRequest.Builder huge = RunTaskRequest.newBuilder();
                // each target is 63 bytes, and 2 more for its field's tag and length
                for (int i = 0; i < 2_100_000 / 65 + 1; i++) {
                    huge.addTargets(String.format("host-%06d.a-long-name-to-make-a-large-request.example.invalid", i));
                }
                RunTaskRequest oversize = huge.build();
                assertTrue(oversize.getSerializedSize() > 2_100_000, "a 2.1 MB request: " + oversize.getSerializedSize());
                long started = System.nanoTime();
                Status tooLarge = assertThrows(StatusRuntimeException.class, () -> stub.runTask(oversize).hasNext())
                        .getStatus();
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, tooLarge.getCode(), tooLarge.toString());
                assertEquals("a message of " + oversize.getSerializedSize() + " bytes is over this server's limit of"
                        + " 2097152 bytes", tooLarge.getDescription());
                // no status at all was the fault: the client waited until its own deadline
                assertTrue(millis < 3_000, "answered in " + millis + " ms");

                // field 2, targets (strings): one byte that is no UTF-8
                Status notUtf8 = rawRunTask(channel, new byte[] {0x12, 0x01, (byte) 0xFF});
                assertEquals(Status.Code.INVALID_ARGUMENT, notUtf8.getCode(), notUtf8.toString());
                assertEquals("not a valid mimoping.v1.RunTaskRequest: Protocol message had invalid UTF-8.",
                        notUtf8.getDescription());
                // field 4, count (a number), sent as length-delimited bytes
                Status wrongType = rawRunTask(channel, new byte[] {0x22, 0x01, 0x05});
                assertEquals(Status.Code.INVALID_ARGUMENT, wrongType.getCode(), wrongType.toString());
                assertEquals("field 'count' (4) of mimoping.v1.RunTaskRequest is uint32 but came as length-delimited"
                        + " bytes", wrongType.getDescription());

                List<TaskEvent> events = new ArrayList<>();
                stub.runTask(RunTaskRequest.newBuilder().addTargets("127.0.0.1").setCount(1).build())
                        .forEachRemaining(events::add);
                assertEquals("end", events.getLast().getType(), "the hub serves on: " + events);
                assertEquals(1, events.getLast().getEnd().getReceived(), events.getLast().toString());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            String first = hub.awaitLine("the oversize message's line", Duration.ofSeconds(10),
                    line -> line.contains("refused a message to mimoping.v1.Hub/RunTask")).text();
            assertTrue(first.contains("RESOURCE_EXHAUSTED: a message of "), first);
            String counted = hub.awaitLine("the count of the malformed ones", Duration.ofSeconds(30),
                    line -> line.contains("refused gRPC messages: ")).text();
            assertTrue(counted.matches(".* INFO io\\.mimoping\\.agent\\.control\\.GrpcGuard: refused gRPC messages: 2 more in"
                    + " the last \\d+\\.\\d s; the last: refused a message to mimoping\\.v1\\.Hub/RunTask from 127\\.0\\.0\\.1:\\d+:"
                    + " INVALID_ARGUMENT: field 'count' .*"), counted);
            assertEquals(2, hub.lines().stream().filter(line -> line.contains("GrpcGuard")).count(), hub.output());
            assertEquals(List.of(), alarming(hub));
        }
    }

    private static Status rawRunTask(ManagedChannel channel, byte[] request) {
        MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                .setFullMethodName(HubGrpc.getRunTaskMethod().getFullMethodName())
                .setRequestMarshaller(RAW_BYTES).setResponseMarshaller(RAW_BYTES).build();
        Iterator<byte[]> events = ClientCalls.blockingServerStreamingCall(channel, method,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
        return assertThrows(StatusRuntimeException.class, events::hasNext).getStatus();
    }

    @Test
    void aHundredAgentsWithAWrongTokenAreABoundedNumberOfLinesWithTheirCount() throws Exception {
        Pattern refusal = Pattern.compile("WARNING io\\.mimoping\\.hub\\.ws\\.AgentEndpoint: refused agent 'intruder-\\d+'"
                + " from 127\\.0\\.0\\.1:\\d+ with 4001: invalid agent token: wrong token$");
        Pattern summary = Pattern.compile("WARNING io\\.mimoping\\.hub\\.ws\\.AgentEndpoint: refused on /ws with 4001: (\\d+)"
                + " more in the last \\d+\\.\\d s; the last: refused agent 'intruder-\\d+' .*");
        try (ChildJvm hub = hub("--rabbitmq-broker-url", "amqp://guest:guest@127.0.0.1:5672/",
                "--agent-token", "the-right-one");
             HttpClient http = HttpClient.newHttpClient()) {
            long started = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                CompletableFuture<Integer> closed = new CompletableFuture<>();
                WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + hub.port(START) + "/ws"),
                        new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                                closed.complete(statusCode);
                                return null;
                            }
                        }).get(10, TimeUnit.SECONDS);
                socket.sendText("{\"type\":\"register\",\"name\":\"intruder-" + i + "\",\"token\":\"wrong\"}", true);
                assertEquals(4001, closed.get(10, TimeUnit.SECONDS), "intruder " + i);
                socket.abort();
            }
            int[] counted = new int[1];
            hub.awaitLine("lines that count all 100 refusals", Duration.ofSeconds(30), line -> {
                counted[0] = 0;
                for (String printed : hub.lines()) {
                    Matcher more = summary.matcher(printed);
                    counted[0] += refusal.matcher(printed).find() ? 1 : more.find() ? Integer.parseInt(more.group(1)) : 0;
                }
                return counted[0] >= 100;
            });
            long intervals = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) / 5 + 1;
            List<String> lines = hub.lines().stream().filter(line -> line.contains("AgentEndpoint")).toList();
            assertEquals(100, counted[0], lines.toString());
            assertTrue(lines.size() <= 1 + intervals, "one line, then one per 5 s interval at most: " + lines);
            assertTrue(lines.stream().allMatch(line -> refusal.matcher(line).find() || summary.matcher(line).find()),
                    lines.toString());
            assertEquals(List.of(), alarming(hub).stream().filter(line -> !line.contains("AgentEndpoint")).toList());
        }
    }
}
