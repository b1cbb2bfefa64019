package io.mimoping.agent.lab;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * How an emulated target answers echo requests: for each request, by its sequence number, the replies
 * to send (none: the request is lost). Deterministic, so a test knows what its probes meet.
 */
public sealed interface Behaviour {

    /** The replies to the request with this 16-bit sequence number, in sending order; empty to drop it. */
    List<Response> respond(int seq);

    /** Answers every request once, immediately. */
    static Behaviour echo() {
        return new Echo(Duration.ZERO);
    }

    /**
     * One reply to send.
     *
     * @param delay  from the request's arrival (its kernel timestamp) to the reply's send
     * @param tamper what to spoil in the reply
     */
    record Response(Duration delay, Tamper tamper) {
        public Response {
            Objects.requireNonNull(tamper, "tamper");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("negative delay: " + delay);
            }
        }
    }

    /** What a reply gets wrong on purpose; a pinger must ignore every such reply. */
    enum Tamper {
        /** Nothing: a correct reply. */
        NONE,
        /** The identifier is the request's plus one, as if the reply were for another pinger. */
        FOREIGN_ID,
        /** The payload's first 16 bytes (mimoping's cookie and probe key) are inverted. */
        WRONG_COOKIE,
        /**
         * The ICMP checksum is wrong. IPv4 only: the kernel computes every ICMPv6 checksum itself, so an
         * IPv6 reply leaves with a correct one.
         */
        BAD_CHECKSUM
    }

    /** Answers once after a delay. */
    record Echo(Duration delay) implements Behaviour {
        @Override
        public List<Response> respond(int seq) {
            return List.of(new Response(delay, Tamper.NONE));
        }
    }

    /** Answers each request {@code copies} times in a row after a delay. */
    record Duplicate(int copies, Duration delay) implements Behaviour {
        public Duplicate {
            if (copies < 2) {
                throw new IllegalArgumentException("a duplicate needs at least 2 copies: " + copies);
            }
        }

        @Override
        public List<Response> respond(int seq) {
            return Collections.nCopies(copies, new Response(delay, Tamper.NONE));
        }
    }

    /** Answers at once with a spoiled reply. */
    record Tampered(Tamper tamper) implements Behaviour {
        @Override
        public List<Response> respond(int seq) {
            return List.of(new Response(Duration.ZERO, tamper));
        }
    }

    /** Never answers. */
    record BlackHole() implements Behaviour {
        @Override
        public List<Response> respond(int seq) {
            return List.of();
        }
    }

    /**
     * Drops a seeded-random share of requests and lets the others meet {@code kept}. Whether a request
     * is dropped depends only on the seed and its sequence number.
     */
    record Loss(double fraction, long seed, Behaviour kept) implements Behaviour {
        public Loss {
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new IllegalArgumentException("loss fraction outside [0, 1]: " + fraction);
            }
            Objects.requireNonNull(kept, "kept");
        }

        @Override
        public List<Response> respond(int seq) {
            boolean drop = new SplittableRandom(seed ^ (seq * 0x9E3779B97F4A7C15L)).nextDouble() < fraction;
            return drop ? List.of() : kept.respond(seq);
        }
    }

    /** The requests with these sequence numbers meet {@code chosen}, all others {@code others}. */
    record Select(Set<Integer> seqs, Behaviour chosen, Behaviour others) implements Behaviour {
        public Select {
            seqs = Set.copyOf(seqs);
            Objects.requireNonNull(chosen, "chosen");
            Objects.requireNonNull(others, "others");
        }

        @Override
        public List<Response> respond(int seq) {
            return seqs.contains(seq) ? chosen.respond(seq) : others.respond(seq);
        }
    }
}
