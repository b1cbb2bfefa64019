/**
 * The ping task and result model shared by every pinging side (the hub's own engine, agents) and every
 * transport that carries results: a {@link io.mimoping.bridge.probe.PingTask} goes in, a stream of
 * {@link io.mimoping.bridge.probe.ProbeEvent}s and one {@link io.mimoping.bridge.probe.TaskTotals} come out.
 */
package io.mimoping.bridge.probe;
