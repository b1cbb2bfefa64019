package io.mimoping.hub.control;

import io.mimoping.agent.config.HostPort;
import io.mimoping.agent.config.Settings;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where the hub dials an agent's control channel: the announced {@code host:port}, except that a wildcard
 * host (the agent listens on every address) is replaced by the host its registration came from. A loopback
 * address announced from another host is refused: the hub would dial itself, where another agent may answer.
 */
record ControlTarget(String host, int port) {

    static ControlTarget of(String announced, String remoteAddress) {
        HostPort control = parse(announced, "control address");
        if (control.port() < 1) {
            throw new IllegalArgumentException("invalid control address '" + announced + "': port out of range");
        }
        String host = control.host();
        boolean wildcard = host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
        if (wildcard || loopback(host)) {
            String from = parse(remoteAddress, "remote address").host();
            if (wildcard) {
                host = from;
            } else if (!loopback(from)) {
                throw new IllegalArgumentException("the agent announces the loopback control address " + control
                        + " but registered from " + from + "; set its control-addr to an address the hub can reach");
            }
        }
        return new ControlTarget(host, control.port());
    }

    String text() {
        return new HostPort(host, port).toString();
    }

    private static HostPort parse(String text, String what) {
        try {
            return Settings.hostPort(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + what + " '" + text + "': " + e.getMessage(), e);
        }
    }

    /** Whether {@code host} is this machine's loopback ({@code localhost}, 127.0.0.0/8, ::1); no name is looked up. */
    private static boolean loopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!host.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
            return false; // a host name
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress(); // a literal: nothing is looked up
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
