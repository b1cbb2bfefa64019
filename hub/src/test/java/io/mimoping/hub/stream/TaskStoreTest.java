package io.mimoping.hub.stream;

import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRequestParser;
import io.mimoping.hub.task.TaskRunner;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store's budgets, with tasks pinging loopback through the real engine. */
@Timeout(60)
class TaskStoreTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    @AutoClose
    private static final IcmpEngine engine = IcmpEngine.open();

    private static TaskStore store(StreamLimits limits) {
        return new TaskStore(new TaskRunner(engine, AgentDirectory.NONE, null), limits, Clock.systemUTC());
    }

    private static TaskRequest request(String json) {
        return new TaskRequestParser().parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void finishedTasksShareTheByteBudgetAndTheOldestGoFirst() throws InterruptedException {
        long budget = 3000;
        try (TaskStore store = store(StreamLimits.DEFAULTS.withBudget(10, budget))) {
            List<StreamedTask> started = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                StreamedTask task = store.start(request("{\"targets\":[\"127.0.0.1\"],\"count\":2,\"interval\":1}"));
                assertTrue(task.awaitEnd(WAIT), "task " + i + " ends");
                started.add(task);
            }
            // newest first: kept while the sum stays within the budget
            List<String> expected = new ArrayList<>();
            long sum = 0;
            for (StreamedTask task : started.reversed()) {
                sum += task.events().bytes();
                if (sum > budget) {
                    break;
                }
                expected.add(task.id());
            }
            String sizes = started.stream().map(t -> t.id() + "=" + t.events().bytes() + " B").toList().toString();
            assertTrue(!expected.isEmpty() && expected.size() < started.size(), "the test keeps some, not all: " + sizes);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!ids(store).equals(expected) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(expected, ids(store), sizes);
            assertTrue(store.find(started.getFirst().id()).isEmpty(), "the oldest is forgotten");
        }
    }

    /** A stopping hub: a stream client that comes now gets no watch, and no error; a new task is refused. */
    @Test
    void aClosedStoreStartsNothing() {
        TaskStore store = store(StreamLimits.DEFAULTS);
        store.close();
        store.every(Duration.ofMillis(10), () -> true);
        assertThrows(TaskStore.StoppingException.class,
                () -> store.start(request("{\"targets\":[\"127.0.0.1\"],\"count\":1}")));
    }

    @Test
    void noMoreThanMaxTasksRunAtOnce() throws InterruptedException {
        String busy = "{\"targets\":[\"127.0.0.1\"],\"count\":600,\"interval\":100}";
        try (TaskStore store = store(StreamLimits.DEFAULTS.withBudget(2, StreamLimits.DEFAULTS.retainTotalBytes()))) {
            StreamedTask first = store.start(request(busy));
            store.start(request(busy));
            TaskStore.TooManyTasksException refused =
                    assertThrows(TaskStore.TooManyTasksException.class, () -> store.start(request(busy)));
            assertTrue(refused.getMessage().contains("2 tasks are running"), refused.getMessage());
            assertEquals(2, store.list().size(), "a refused task is not listed");
            first.cancel("test");
            assertTrue(first.awaitEnd(WAIT));
            long deadline = System.nanoTime() + WAIT.toNanos();
            StreamedTask third = null;
            while (third == null && System.nanoTime() < deadline) {
                try {
                    third = store.start(request(busy));
                } catch (TaskStore.TooManyTasksException e) {
                    Thread.sleep(20); // the ended task is counted out right after its end event
                }
            }
            assertTrue(third != null, "a task may start once one ended");
        }
    }

    private static List<String> ids(TaskStore store) {
        return store.list().stream().map(StreamedTask::id).toList();
    }
}
