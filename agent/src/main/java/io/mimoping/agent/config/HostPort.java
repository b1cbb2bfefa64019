package io.mimoping.agent.config;

/**
 * An address to listen on or to connect to.
 *
 * @param host a host name or an IP address, without brackets
 * @param port 0..65535 (0: any free port, when listening)
 */
public record HostPort(String host, int port) {

    /** {@code host:port}, with brackets around an IPv6 address. */
    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
