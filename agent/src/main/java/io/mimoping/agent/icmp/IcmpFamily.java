package io.mimoping.agent.icmp;

import java.net.Inet4Address;
import java.net.InetAddress;

/** ICMP for IPv4 or ICMPv6 for IPv6: the numbers that differ between the two. */
public enum IcmpFamily {
    V4(LibC.AF_INET, LibC.IPPROTO_ICMP, 8, 0),
    V6(LibC.AF_INET6, LibC.IPPROTO_ICMPV6, 128, 129);

    final int addressFamily;
    final int protocol;
    private final int echoRequest;
    private final int echoReply;

    IcmpFamily(int addressFamily, int protocol, int echoRequest, int echoReply) {
        this.addressFamily = addressFamily;
        this.protocol = protocol;
        this.echoRequest = echoRequest;
        this.echoReply = echoReply;
    }

    /** The family of an address. */
    public static IcmpFamily of(InetAddress address) {
        return address instanceof Inet4Address ? V4 : V6;
    }

    /** ICMP type of an echo request (8, or 128 for ICMPv6). */
    public int echoRequest() {
        return echoRequest;
    }

    /** ICMP type of an echo reply (0, or 129 for ICMPv6). */
    public int echoReply() {
        return echoReply;
    }

    /** "IPv4" or "IPv6". */
    public String label() {
        return this == V4 ? "IPv4" : "IPv6";
    }
}
