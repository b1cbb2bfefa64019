package io.mimoping.hub.control;

/**
 * Where the hub dials an agent's control channel: the announced {@code host:port}, except that a wildcard
 * host (the agent listens on every address) is replaced by the host its registration came from.
 */
record ControlTarget(String host, int port) {

    static ControlTarget of(String announced, String remoteAddress) {
        HostPort control = HostPort.parse(announced, "control address");
        String host = control.host();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
            host = HostPort.parse(remoteAddress, "remote address").host();
        }
        if (control.port() < 1 || control.port() > 65_535) {
            throw new IllegalArgumentException("invalid control address '" + announced + "': port out of range");
        }
        return new ControlTarget(host, control.port());
    }

    String text() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private record HostPort(String host, int port) {

        static HostPort parse(String text, String what) {
            int colon = text.lastIndexOf(':');
            try {
                String host = text.substring(0, Math.max(colon, 0)).replace("[", "").replace("]", "");
                if (host.isEmpty()) {
                    throw new IllegalArgumentException("no host");
                }
                return new HostPort(host, Integer.parseInt(text.substring(colon + 1)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid " + what + " '" + text + "': not HOST:PORT", e);
            }
        }
    }
}
