package io.mimoping.agent.engine;

/** Waiting for the threads that own sockets: the engine's loops, the lab's responder, test watchers. */
public final class Threads {

    private Threads() {
    }

    /**
     * Waits for a thread to end even if interrupted meanwhile, then restores the interrupt flag: a loop's
     * sockets are its own until it ends, so closing them sooner would pull them from under it.
     */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
