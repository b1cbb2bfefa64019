package io.mimoping.hub.bench;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** The command line of {@code mimoping bench soak|abuse}: {@code -h} prints the usage; a bad flag says why and exits 2. */
final class BenchArgs {

    private BenchArgs() {
    }

    /** The options {@code parser} reads from {@code args}; empty when only the usage was asked for. */
    static <T> Optional<T> parse(String command, String usage, String[] args, Function<String[], T> parser) {
        if (List.of(args).contains("-h") || List.of(args).contains("--help")) {
            System.out.print(usage);
            return Optional.empty();
        }
        try {
            return Optional.of(parser.apply(args));
        } catch (IllegalArgumentException e) {
            System.err.println("mimoping bench " + command + ": " + e.getMessage());
            System.err.print(usage);
            System.exit(2);
            return Optional.empty();
        }
    }
}
