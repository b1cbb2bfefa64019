package io.mimoping.hub;

/**
 * Command-line options of {@code mimoping hub}, read once at start.
 *
 * @param host address to listen on
 * @param port port to listen on (0: any free port)
 * @param help whether usage was asked for
 */
record HubOptions(String host, int port, boolean help) {

    static final String USAGE = """
            usage: mimoping hub [--addr HOST:PORT]
              --addr HOST:PORT   where to listen (default 127.0.0.1:8080; [::1]:8080 for IPv6)
              -h, --help         this text""";

    static HubOptions parse(String[] args) {
        String host = "127.0.0.1";
        int port = 8080;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "-h", "--help", "-help" -> {
                    return new HubOptions(host, port, true);
                }
                case "--addr", "-addr" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(arg + " needs a value HOST:PORT");
                    }
                    String addr = args[++i];
                    int colon = addr.lastIndexOf(':');
                    if (colon < 0) {
                        throw new IllegalArgumentException("--addr must be HOST:PORT, got '" + addr + "'");
                    }
                    host = addr.substring(0, colon).replace("[", "").replace("]", "");
                    if (host.isEmpty()) {
                        host = "0.0.0.0";
                    }
                    try {
                        port = Integer.parseInt(addr.substring(colon + 1));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--addr port must be a number, got '" + addr + "'");
                    }
                    if (port < 0 || port > 65_535) {
                        throw new IllegalArgumentException("--addr port must be 0..65535, got " + port);
                    }
                }
                default -> throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
        }
        return new HubOptions(host, port, false);
    }
}
