package io.mimoping.hub;

import io.mimoping.hub.stream.TaskStore;
import io.mimoping.hub.task.TaskRunner;

import java.time.Duration;
import java.util.logging.Logger;

/**
 * The tasks a hub runs: background tasks ({@code POST /tasks}) and the tasks streamed straight to their client
 * ({@code POST /ping-task}, gRPC {@code RunTask}). A stopping hub ends them all before its server stops.
 *
 * @param background the background tasks
 * @param streamed   runs the streamed tasks
 */
public record HubTasks(TaskStore background, TaskRunner streamed) {

    private static final Logger LOG = Logger.getLogger(HubTasks.class.getName());
    /** How long a stopping hub waits for its streamed tasks' clients to be sent the end of their streams. */
    private static final Duration END_WAIT = Duration.ofSeconds(2);

    /**
     * Cancels every task, each stream ending with a {@code cancelled} error ({@value TaskStore#STOPPING}) and its
     * {@code end}, and waits until those are written: up to 2 s for the background tasks, then up to 2 s more
     * for the streamed ones (which have been ending meanwhile). After this a streamed task is cancelled as it
     * starts, and a background task is refused.
     */
    public void stop() {
        streamed.cancelAll(TaskStore.STOPPING);
        background.close();
        try {
            if (!streamed.awaitNone(END_WAIT)) {
                LOG.warning("some task streams had not ended " + END_WAIT.toMillis() + " ms after the hub began to stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
