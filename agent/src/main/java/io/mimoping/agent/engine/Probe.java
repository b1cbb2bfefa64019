package io.mimoping.agent.engine;

import io.mimoping.bridge.probe.Reply;

/** One echo request in flight, from its send until the engine forgets it. Owned by the engine thread. */
final class Probe {

    private enum State { WAITING, ANSWERED, TIMED_OUT, LATE_SEEN }

    final TargetRun target;
    final long seq;
    final long key;
    final long sentMonotonicNanos;
    final long sentEpochNanos;
    private State state = State.WAITING;

    Probe(TargetRun target, long seq, long key, long sentMonotonicNanos, long sentEpochNanos) {
        this.target = target;
        this.seq = seq;
        this.key = key;
        this.sentMonotonicNanos = sentMonotonicNanos;
        this.sentEpochNanos = sentEpochNanos;
    }

    /**
     * A reply matched this probe: what it is, given what came before.
     *
     * @return the reply's kind, or {@code null} if it is to be ignored (a second late reply: the
     *         probe's late reply was reported once already)
     */
    Reply.Kind accept() {
        return switch (state) {
            case WAITING -> {
                state = State.ANSWERED;
                yield Reply.Kind.FIRST;
            }
            case ANSWERED -> Reply.Kind.DUPLICATE;
            case TIMED_OUT -> {
                state = State.LATE_SEEN;
                yield Reply.Kind.LATE;
            }
            case LATE_SEEN -> null;
        };
    }

    /**
     * The probe's deadline passed.
     *
     * @return true if it had no reply, so it timed out now
     */
    boolean expire() {
        if (state == State.WAITING) {
            state = State.TIMED_OUT;
            return true;
        }
        return false;
    }
}
