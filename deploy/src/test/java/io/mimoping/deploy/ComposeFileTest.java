package io.mimoping.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code deploy/docker-compose.yml} parses, has the services the README names, and uses only documented keys. */
class ComposeFileTest {

    private static final Path DEPLOY = Path.of(".").toAbsolutePath().normalize();

    @Test
    void theComposeFileNamesTheServicesTheReadmeSaysWithDocumentedSettings() throws Exception {
        JsonNode compose = new YAMLMapper().readTree(DEPLOY.resolve("docker-compose.yml").toFile());
        JsonNode services = compose.get("services");
        List<String> names = new ArrayList<>();
        services.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("rabbitmq", "hub", "agent-1", "agent-2"), names);

        String readme = Files.readString(DEPLOY.resolve("../README.md"));
        assertTrue(readme.contains("`rabbitmq`, `hub`, `agent-1` and `agent-2`"), "the README names the services");

        assertEquals("amqp://guest:guest@rabbitmq:5672/",
                services.get("hub").get("environment").get("MIMOPING_RABBITMQ_BROKER_URL").asText());
        String hubConfig = Files.readString(DEPLOY.resolve("config/hub.properties"));
        String agentConfig = Files.readString(DEPLOY.resolve("config/agent.properties"));
        services.get("hub").get("environment").fieldNames().forEachRemaining(variable ->
                assertTrue(hubConfig.contains("env " + variable), variable + " is a documented hub variable"));
        for (String agent : List.of("agent-1", "agent-2")) {
            JsonNode env = services.get(agent).get("environment");
            assertEquals(agent, env.get("MIMOPING_NODE_NAME").asText());
            assertEquals("hub:8080", env.get("MIMOPING_ADDR").asText(), "agents register with the hub service");
            env.fieldNames().forEachRemaining(variable ->
                    assertTrue(agentConfig.contains("env " + variable), variable + " is a documented agent variable"));
            assertEquals("rabbitmq", services.get(agent).get("depends_on").fieldNames().next());
        }
        assertEquals("service_healthy", services.get("hub").get("depends_on").get("rabbitmq").get("condition").asText());
        assertEquals("deploy/Dockerfile", services.get("hub").get("build").get("dockerfile").asText());
        assertTrue(Files.isRegularFile(DEPLOY.resolve("Dockerfile")));
    }
}
