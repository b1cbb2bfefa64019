/**
 * All of mimoping's native code: ICMP sockets through JNA direct mapping, readiness waiting, and the
 * network-namespace switch and real-time scheduling the impairment lab uses, and the unix datagram socket
 * that talks to systemd ({@link io.mimoping.agent.icmp.UnixDatagramSocket}). Nothing outside this
 * package sees JNA types; failed calls become {@link io.mimoping.agent.icmp.NativeException}s naming
 * the call and errno.
 */
package io.mimoping.agent.icmp;
