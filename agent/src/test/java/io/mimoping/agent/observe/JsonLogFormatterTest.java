package io.mimoping.agent.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonLogFormatterTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static JsonNode format(JsonLogFormatter formatter, LogRecord record) throws Exception {
        String line = formatter.format(record);
        assertTrue(line.endsWith(System.lineSeparator()), line);
        assertFalse(line.strip().contains("\n"), "one line: " + line);
        return JSON.readTree(line);
    }

    @Test
    void oneJsonObjectALineWithTheProcessFieldsAndTheTaskItNames() throws Exception {
        JsonLogFormatter formatter = new JsonLogFormatter(Map.of("agent", "agent-7"));
        LogRecord record = new LogRecord(Level.WARNING, "task {0} stopped: its hub''s queue is gone");
        record.setParameters(new Object[] {"fd3aa6915502a1dc"});
        record.setLoggerName("io.mimoping.agent.process.AgentTasks");
        record.setInstant(Instant.parse("2026-11-27T05:00:00.123456Z"));
        JsonNode line = format(formatter, record);
        assertEquals("2026-11-27T05:00:00.123456Z", line.get("time").asText());
        assertEquals("WARNING", line.get("level").asText());
        assertEquals("io.mimoping.agent.process.AgentTasks", line.get("logger").asText());
        assertEquals("task fd3aa6915502a1dc stopped: its hub's queue is gone", line.get("message").asText());
        assertEquals("agent-7", line.get("agent").asText());
        assertEquals("fd3aa6915502a1dc", line.get("task").asText());
        assertEquals(Thread.currentThread().getName(), line.get("thread").asText());
    }

    @Test
    void theHubsLinesNameTheirAgentAndExceptionsKeepTheirTrace() throws Exception {
        JsonLogFormatter formatter = new JsonLogFormatter(Map.of());
        LogRecord record = new LogRecord(Level.INFO, "agent 'edge-1' left: no heartbeat");
        record.setThrown(new IllegalStateException("boom"));
        JsonNode line = format(formatter, record);
        assertEquals("edge-1", line.get("agent").asText());
        assertFalse(line.has("task"), "no task named: " + line);
        assertTrue(line.get("exception").asText().startsWith("java.lang.IllegalStateException: boom"), line.toString());
    }
}
