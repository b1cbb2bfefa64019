package io.mimoping.agent.control;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.mimoping.bridge.control.CapabilityCodec;
import io.mimoping.proto.v1.AgentControlGrpc;
import io.mimoping.proto.v1.Capabilities;
import io.mimoping.proto.v1.GetCapabilitiesRequest;

/** {@code mimoping.v1.AgentControl}: answers with capabilities detected at each call. */
final class ControlService extends AgentControlGrpc.AgentControlImplBase {

    private final CapabilityDetector detector;

    ControlService(CapabilityDetector detector) {
        this.detector = detector;
    }

    @Override
    public void getCapabilities(GetCapabilitiesRequest request, StreamObserver<Capabilities> response) {
        Capabilities capabilities;
        try {
            capabilities = CapabilityCodec.toProto(detector.detect());
        } catch (RuntimeException e) {
            response.onError(Status.INTERNAL.withDescription("capability detection failed: " + e.getMessage())
                    .withCause(e).asRuntimeException());
            return;
        }
        response.onNext(capabilities);
        response.onCompleted();
    }
}
