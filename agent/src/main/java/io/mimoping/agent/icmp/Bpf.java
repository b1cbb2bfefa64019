package io.mimoping.agent.icmp;

/**
 * Classic BPF socket filters, each instruction packed as the kernel's {@code struct sock_filter}
 * (16-bit code, 8-bit jump-if-true, 8-bit jump-if-false, 32-bit constant) in a little-endian long.
 * Raw IPv4 sockets see the packet from its IP header; raw IPv6 sockets from the ICMPv6 header.
 */
final class Bpf {

    private static final int LD_B_ABS = 0x30;
    private static final int LD_H_ABS = 0x28;
    private static final int LD_B_IND = 0x50;
    private static final int LD_H_IND = 0x48;
    private static final int LDX_B_MSH = 0xb1;
    private static final int JEQ_K = 0x15;
    private static final int RET_K = 0x06;
    private static final int ACCEPT = 0xffff_ffff;

    private Bpf() {
    }

    /** IPv4: X = IP header length; type at X must be 0 (echo reply) and identifier at X + 4 ours. */
    static long[] echoRepliesV4(int identifier) {
        return new long[] {
                op(LDX_B_MSH, 0, 0, 0),
                op(LD_B_IND, 0, 0, 0),
                op(JEQ_K, 0, 3, IcmpFamily.V4.echoReply()),
                op(LD_H_IND, 0, 0, 4),
                op(JEQ_K, 0, 1, identifier & 0xffff),
                op(RET_K, 0, 0, ACCEPT),
                op(RET_K, 0, 0, 0),
        };
    }

    /** IPv6: type at 0 must be 129 (echo reply) and identifier at 4 ours. */
    static long[] echoRepliesV6(int identifier) {
        return new long[] {
                op(LD_B_ABS, 0, 0, 0),
                op(JEQ_K, 0, 3, IcmpFamily.V6.echoReply()),
                op(LD_H_ABS, 0, 0, 4),
                op(JEQ_K, 0, 1, identifier & 0xffff),
                op(RET_K, 0, 0, ACCEPT),
                op(RET_K, 0, 0, 0),
        };
    }

    /** Drops everything. */
    static long[] nothing() {
        return new long[] {op(RET_K, 0, 0, 0)};
    }

    private static long op(int code, int jumpTrue, int jumpFalse, int k) {
        return (code & 0xffffL) | (long) (jumpTrue & 0xff) << 16 | (long) (jumpFalse & 0xff) << 24
                | (k & 0xffff_ffffL) << 32;
    }
}
