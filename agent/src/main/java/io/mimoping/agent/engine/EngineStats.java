package io.mimoping.agent.engine;

/**
 * Counters of an engine since it opened, summed over its shards: figures to show and benchmark.
 *
 * @param shards           engine loops (threads) probing in parallel
 * @param sent             echo requests the kernel accepted
 * @param matched          replies matched to a probe (first, duplicate or late)
 * @param ignored          messages read that answered none of our probes
 * @param kernelDrops      messages the kernel dropped because a receive buffer was full (SO_RXQ_OVFL):
 *                         lost to the engine itself, 0 when it keeps up
 * @param userClockReplies matched replies whose RTT had to use the user-space send time (no kernel TX stamp)
 * @param slotsInUse       probes in flight or remembered for late replies now
 * @param slotsPeak        most at once so far: outstanding probes, with no 16-bit ceiling
 * @param eventWaits       times a shard waited because listeners had not taken the previous events yet
 */
public record EngineStats(int shards, long sent, long matched, long ignored, long kernelDrops,
                          long userClockReplies, long slotsInUse, long slotsPeak, long eventWaits) {
}
