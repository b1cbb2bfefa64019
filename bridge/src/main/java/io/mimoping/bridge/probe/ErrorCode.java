package io.mimoping.bridge.probe;

/** Error codes of the {@code error} event, with the names they have on the wire. */
public enum ErrorCode {
    /** An agent named in {@code from} is known but not reachable. */
    AGENT_OFFLINE("agent_offline"),
    /** An agent named in {@code from} is not registered (in embedded mode: every agent). */
    AGENT_UNKNOWN("agent_unknown"),
    /** An agent stopped answering while it had probes in flight. */
    AGENT_LOST("agent_lost"),
    /** A target's host name did not resolve. */
    RESOLVE_FAILED("resolve_failed"),
    /** This process may not send ICMP for the target's address family. */
    PERMISSION_DENIED("permission_denied"),
    /** The kernel refused to send a probe (no route, unreachable network, ...). */
    SEND_FAILED("send_failed"),
    /** The pinging side cannot send ICMP of the target's address family (its control channel said so). */
    UNSUPPORTED("unsupported"),
    /** The pinging side shut down while the task ran; its probes in flight have no outcome. */
    ENGINE_STOPPED("engine_stopped"),
    /** A client cancelled the task ({@code DELETE /tasks/{id}}): no probe is sent after it. */
    CANCELLED("cancelled");

    private final String wireName;

    ErrorCode(String wireName) {
        this.wireName = wireName;
    }

    /** The code as events carry it, such as {@code resolve_failed}. */
    public String wireName() {
        return wireName;
    }
}
