package io.mimoping.hub.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.mimoping.bridge.probe.ProbeError;
import io.mimoping.bridge.probe.ProbeEvent;
import io.mimoping.bridge.probe.TaskTotals;
import io.mimoping.hub.event.EventSink;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.proto.v1.TaskEvent;

/**
 * Streams one task's events to a gRPC client as {@code TaskEvent} messages, with the metadata of the NDJSON
 * lines. Once the client cancels the call, every method throws {@code CANCELLED}: the task stops.
 */
final class GrpcEventSink implements EventSink {

    private final ServerCallStreamObserver<TaskEvent> out;
    private final String taskId;
    private long cursor;

    GrpcEventSink(ServerCallStreamObserver<TaskEvent> out, String taskId) {
        this.out = out;
        this.taskId = taskId;
    }

    @Override
    public void task(TaskRequest request) {
        send(HubMapper.started(taskId, request), TaskRequest.HUB);
    }

    @Override
    public void probe(String from, ProbeEvent event) {
        send(HubMapper.probe(event), from);
    }

    @Override
    public void agentError(String agent, ProbeError error) {
        send(HubMapper.agentError(agent, error), TaskRequest.HUB);
    }

    @Override
    public void end(TaskTotals totals) {
        send(HubMapper.end(totals), TaskRequest.HUB);
    }

    @Override
    public void keepAlive() {
        checkCancelled();
    }

    private void send(TaskEvent.Builder event, String from) {
        checkCancelled();
        out.onNext(event.setFrom(from).setTask(taskId).setCursor(cursor++).build());
    }

    private void checkCancelled() {
        if (out.isCancelled()) {
            throw Status.CANCELLED.withDescription("the client cancelled task " + taskId).asRuntimeException();
        }
    }
}
