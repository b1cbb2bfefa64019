package io.mimoping.agent.icmp;

import java.io.Serial;

/** Neither a raw nor a datagram ICMP socket may be opened: no CAP_NET_RAW and no ping_group_range. */
public final class IcmpPermissionException extends NativeException {

    @Serial
    private static final long serialVersionUID = 1L;

    IcmpPermissionException(String message, int errno) {
        super(message, errno);
    }
}
