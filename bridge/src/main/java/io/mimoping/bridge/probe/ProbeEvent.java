package io.mimoping.bridge.probe;

/**
 * What happens while a task runs, for one target or one probe. The closed set every transport carries.
 */
public sealed interface ProbeEvent permits Reply, Timeout, ProbeError, TargetStats {

    /** The target as the user wrote it, or {@code null} for an error that concerns no single target. */
    String target();
}
