package io.mimoping.hub.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcReflectionFeature;
import io.helidon.webserver.grpc.GrpcRouting;
import io.mimoping.agent.control.GrpcGuard;
import io.mimoping.bridge.control.CapabilityCodec;
import io.mimoping.bridge.control.ControlException;
import io.mimoping.hub.control.AgentControls;
import io.mimoping.hub.observe.ClientStreams;
import io.mimoping.hub.task.InvalidRequestException;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRequestParser;
import io.mimoping.hub.task.TaskRunner;
import io.mimoping.hub.ws.Agent;
import io.mimoping.hub.ws.AgentRegistry;
import io.mimoping.proto.v1.Capabilities;
import io.mimoping.proto.v1.GetAgentCapabilitiesRequest;
import io.mimoping.proto.v1.HubGrpc;
import io.mimoping.proto.v1.HubProto;
import io.mimoping.proto.v1.ListAgentsRequest;
import io.mimoping.proto.v1.ListAgentsResponse;
import io.mimoping.proto.v1.RunTaskRequest;
import io.mimoping.proto.v1.TaskEvent;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.NoSuchElementException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code mimoping.v1.Hub}: the hub's agents and tasks for gRPC clients, on the hub's HTTP port.
 * Errors travel as {@link Status}.
 */
public final class HubService extends HubGrpc.HubImplBase {

    private static final Logger LOG = Logger.getLogger(HubService.class.getName());

    private final TaskRunner runner;
    private final AgentRegistry agents;
    private final AgentControls controls;
    private final TaskRequestParser parser = new TaskRequestParser();
    private final SecureRandom random = new SecureRandom();
    private final ClientStreams clients;

    HubService(TaskRunner runner, AgentRegistry agents, AgentControls controls, ClientStreams clients) {
        this.runner = runner;
        this.agents = agents;
        this.controls = controls;
        this.clients = clients;
    }

    /**
     * Serves this service, the standard reflection (v1 and v1alpha) with it, on the server's port, its request
     * messages checked by {@link GrpcGuard}; its {@code RunTask} streams are counted in {@code clients}.
     */
    public static void register(WebServerConfig.Builder server, TaskRunner runner, AgentRegistry agents,
                                AgentControls controls, ClientStreams clients) {
        GrpcRouting.Builder routing = GrpcRouting.builder()
                .service(HubProto.getDescriptor(), new HubService(runner, agents, controls, clients));
        GrpcGuard.install(server, routing);
        server.addRouting(routing).addFeature(GrpcReflectionFeature.builder().enabled(true).build());
    }

    @Override
    public void listAgents(ListAgentsRequest request, StreamObserver<ListAgentsResponse> response) {
        ListAgentsResponse.Builder list = ListAgentsResponse.newBuilder();
        for (Agent agent : agents.list()) {
            list.addAgents(HubMapper.agent(agent, controls.state(agent)));
        }
        response.onNext(list.build());
        response.onCompleted();
    }

    @Override
    public void getAgentCapabilities(GetAgentCapabilitiesRequest request, StreamObserver<Capabilities> response) {
        if (request.getName().isEmpty()) {
            response.onError(GrpcErrors.missing("name", "the agent's name is required"));
            return;
        }
        Capabilities capabilities;
        try {
            capabilities = CapabilityCodec.toProto(controls.ask(request.getName()));
        } catch (NoSuchElementException | IllegalStateException | ControlException e) {
            response.onError(GrpcErrors.status(e));
            return;
        }
        response.onNext(capabilities);
        response.onCompleted();
    }

    @Override
    public void runTask(RunTaskRequest request, StreamObserver<TaskEvent> response) {
        TaskRequest task;
        try {
            task = parser.parse(HubMapper.asJson(request));
            runner.check(task);
        } catch (InvalidRequestException e) {
            response.onError(GrpcErrors.status(e));
            return;
        }
        String taskId = HexFormat.of().toHexDigits(random.nextLong());
        try (ClientStreams.Stream stream = clients.open(ClientStreams.Transport.GRPC)) {
            runner.run(taskId, task, new GrpcEventSink((ServerCallStreamObserver<TaskEvent>) response, taskId));
        } catch (StatusRuntimeException e) {
            LOG.log(Level.FINE, e, () -> "task " + taskId + " stopped: " + e.getStatus());
            return;
        }
        response.onCompleted();
    }
}
