package io.mimoping.hub.ws;

/** The registry's handle on one agent's WebSocket connection; every method is safe from any thread. */
interface AgentSession {

    /**
     * Sends a heartbeat, unless the agent has not yet been told it is registered (nothing precedes that);
     * throws an unchecked exception if the connection is gone.
     */
    void heartbeat();

    /** Starts the close handshake. */
    void close(int code, String reason);

    /** Drops the connection without waiting for the peer (after a close handshake it never finished). */
    void abort();

    /** Whether the connection has ended for good: the server closed its socket, nothing more can come through it. */
    boolean ended();
}
