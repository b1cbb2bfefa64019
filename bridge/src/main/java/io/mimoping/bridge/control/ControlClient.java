package io.mimoping.bridge.control;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.mimoping.proto.v1.AgentControlGrpc;
import io.mimoping.proto.v1.GetCapabilitiesRequest;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** The hub's end of one agent's control channel (plaintext gRPC, HTTP/2). */
public final class ControlClient implements AutoCloseable {

    private final String address;
    private final ManagedChannel channel;

    /** A client of the control channel at {@code host:port}; connects lazily. */
    public ControlClient(String host, int port) {
        this.address = Objects.requireNonNull(host, "host") + ":" + port;
        this.channel = Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()).build();
    }

    /**
     * Asks the agent what it can do, detected now.
     *
     * @throws ControlException if it does not answer within {@code deadline}, or answers with an error
     */
    public AgentCapabilities capabilities(Duration deadline) {
        try {
            return CapabilityCodec.fromProto(AgentControlGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS)
                    .getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
        } catch (StatusRuntimeException e) {
            String why = e.getStatus().getDescription() == null ? "" : ": " + e.getStatus().getDescription();
            throw new ControlException("the control channel at " + address + " did not answer ("
                    + e.getStatus().getCode() + why + ")", e);
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
