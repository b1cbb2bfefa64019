package io.mimoping.hub.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What {@code grpcurl -plaintext} does, with grpc-java: lists services and fetches descriptors over server
 * reflection (v1, or v1alpha as grpcurl's fallback), then calls a method it knows only by name, with a JSON
 * body converted by {@link JsonFormat} into a {@link DynamicMessage}, and prints the answers as JSON.
 */
final class Grpcurl implements AutoCloseable {

    /** The reflection protocol versions grpcurl speaks; their messages are identical on the wire. */
    enum Reflection {
        V1("grpc.reflection.v1.ServerReflection"), V1ALPHA("grpc.reflection.v1alpha.ServerReflection");

        final String service;

        Reflection(String service) {
            this.service = service;
        }
    }

    private final ManagedChannel channel;
    private final Reflection reflection;

    Grpcurl(String address, Reflection reflection) {
        this.channel = Grpc.newChannelBuilder(address, InsecureChannelCredentials.create()).build();
        this.reflection = reflection;
    }

    /** {@code grpcurl list}. */
    List<String> list() throws InterruptedException {
        ServerReflectionResponse response = ask(ServerReflectionRequest.newBuilder().setListServices("").build());
        return response.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
    }

    /** {@code grpcurl describe SERVICE}: the service, its file and every file that file imports, resolved. */
    ServiceDescriptor describe(String service) throws InterruptedException {
        Map<String, FileDescriptorProto> protos = new HashMap<>();
        ServerReflectionResponse response = ask(ServerReflectionRequest.newBuilder().setFileContainingSymbol(service).build());
        if (!response.hasFileDescriptorResponse()) {
            throw new IllegalStateException("no file for " + service + ": " + response.getErrorResponse());
        }
        String file = add(protos, response.getFileDescriptorResponse().getFileDescriptorProtoList());
        FileDescriptor descriptor = build(file, protos, new HashMap<>());
        ServiceDescriptor found = descriptor.findServiceByName(service.substring(service.lastIndexOf('.') + 1));
        if (found == null) {
            throw new IllegalStateException(service + " is not in " + file);
        }
        return found;
    }

    /** {@code grpcurl -d JSON ADDRESS SERVICE/METHOD} for a unary method: the answer as JSON. */
    String call(String fullMethod, String json) throws InterruptedException, InvalidProtocolBufferException {
        MethodDescriptor method = method(fullMethod);
        DynamicMessage answer = ClientCalls.blockingUnaryCall(channel, grpcMethod(method),
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request(method, json));
        return printer(method).print(answer);
    }

    /**
     * {@code grpcurl -d JSON ADDRESS SERVICE/METHOD} for a server-streaming method: the answers as JSON, read
     * as they come; the call is cancelled when {@code context} is.
     */
    Iterator<String> stream(String fullMethod, String json, Context.CancellableContext context)
            throws InterruptedException, InvalidProtocolBufferException {
        MethodDescriptor method = method(fullMethod);
        DynamicMessage request = request(method, json);
        Iterator<DynamicMessage> answers;
        Context previous = context.attach();
        try {
            answers = ClientCalls.blockingServerStreamingCall(channel, grpcMethod(method), CallOptions.DEFAULT, request);
        } finally {
            context.detach(previous);
        }
        JsonFormat.Printer printer = printer(method);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return answers.hasNext();
            }

            @Override
            public String next() {
                try {
                    return printer.print(answers.next());
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private MethodDescriptor method(String fullMethod) throws InterruptedException {
        int slash = fullMethod.indexOf('/');
        ServiceDescriptor service = describe(fullMethod.substring(0, slash));
        MethodDescriptor method = service.findMethodByName(fullMethod.substring(slash + 1));
        if (method == null) {
            throw new IllegalArgumentException("no method " + fullMethod);
        }
        return method;
    }

    private static DynamicMessage request(MethodDescriptor method, String json) throws InvalidProtocolBufferException {
        DynamicMessage.Builder request = DynamicMessage.newBuilder(method.getInputType());
        JsonFormat.parser().merge(json, request);
        return request.build();
    }

    private static JsonFormat.Printer printer(MethodDescriptor method) {
        return JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace()
                .usingTypeRegistry(TypeRegistry.newBuilder().add(method.getOutputType()).build());
    }

    private static io.grpc.MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod(MethodDescriptor method) {
        return io.grpc.MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
                .setType(method.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING
                        : io.grpc.MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(
                        method.getService().getFullName(), method.getName()))
                .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(method.getInputType())))
                .setResponseMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(method.getOutputType())))
                .build();
    }

    /** Adds the files of a reflection answer; returns the first one's name (the file asked for). */
    private static String add(Map<String, FileDescriptorProto> protos, List<ByteString> files) {
        String first = null;
        for (ByteString bytes : files) {
            FileDescriptorProto proto;
            try {
                proto = FileDescriptorProto.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("the server sent a broken file descriptor", e);
            }
            protos.putIfAbsent(proto.getName(), proto);
            if (first == null) {
                first = proto.getName();
            }
        }
        return first;
    }

    /** Builds a file, fetching by name each import the server did not send along (as grpcurl does). */
    private FileDescriptor build(String name, Map<String, FileDescriptorProto> protos, Map<String, FileDescriptor> built)
            throws InterruptedException {
        FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        if (!protos.containsKey(name)) {
            ServerReflectionResponse response = ask(ServerReflectionRequest.newBuilder().setFileByFilename(name).build());
            add(protos, response.getFileDescriptorResponse().getFileDescriptorProtoList());
        }
        FileDescriptorProto proto = protos.get(name);
        if (proto == null) {
            throw new IllegalStateException("the server does not know " + name);
        }
        List<FileDescriptor> dependencies = new ArrayList<>();
        for (String dependency : proto.getDependencyList()) {
            dependencies.add(build(dependency, protos, built));
        }
        try {
            FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies.toArray(FileDescriptor[]::new));
            built.put(name, file);
            return file;
        } catch (DescriptorValidationException e) {
            throw new IllegalStateException("invalid descriptor " + name, e);
        }
    }

    /** One request, one answer, on a reflection stream of its own. */
    private ServerReflectionResponse ask(ServerReflectionRequest request) throws InterruptedException {
        BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        io.grpc.MethodDescriptor<ServerReflectionRequest, ServerReflectionResponse> method =
                ServerReflectionGrpc.getServerReflectionInfoMethod().toBuilder()
                        .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(reflection.service,
                                "ServerReflectionInfo"))
                        .build();
        StreamObserver<ServerReflectionRequest> requests = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)),
                new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answers.add(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        requests.onNext(request);
        requests.onCompleted();
        Object answer = answers.poll(15, TimeUnit.SECONDS);
        if (answer instanceof ServerReflectionResponse response) {
            return response;
        }
        throw new IllegalStateException(reflection + " reflection failed: " + answer, answer instanceof Throwable t ? t : null);
    }
}
