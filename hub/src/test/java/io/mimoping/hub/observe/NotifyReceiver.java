package io.mimoping.hub.observe;

import com.fasterxml.jackson.databind.json.JsonMapper;
import io.mimoping.hub.ChildJvm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Plays systemd's side of {@code sd_notify}: a unix datagram socket bound at an address (a path, or
 * {@code @name} in the abstract namespace) that records every datagram with when it arrived. The socket is
 * Python's (a process of its own), so the test does not use the code it tests to receive.
 */
final class NotifyReceiver implements AutoCloseable {

    /** One datagram: its text and {@link System#nanoTime()} when it arrived. */
    record Message(long at, String text) {

        boolean has(String assignment) {
            return ("\n" + text + "\n").contains("\n" + assignment);
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String SCRIPT = """
            import json, socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            address = sys.argv[1]
            s.bind("\\0" + address[1:] if address.startswith("@") else address)
            print("bound", flush=True)
            while True:
                print(json.dumps(s.recv(65536).decode()), flush=True)
            """;

    final String address;
    private final Process python;
    private final List<Message> messages = new ArrayList<>();

    NotifyReceiver(String address) throws IOException {
        this.address = address;
        python = new ProcessBuilder("python3", "-c", SCRIPT, address).redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("bound", lines.readLine(), "the receiver bound " + address);
        Thread.ofVirtual().start(() -> {
            try {
                String line;
                while ((line = lines.readLine()) != null) {
                    Message message = new Message(System.nanoTime(), JSON.readValue(line, String.class));
                    synchronized (messages) {
                        messages.add(message);
                        messages.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the receiver was closed
            }
        });
    }

    /** Every datagram so far. */
    List<Message> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** Waits for the first datagram that matches. */
    Message await(Predicate<Message> matches, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (messages) {
            while (true) {
                for (Message message : messages) {
                    if (matches.test(message)) {
                        return message;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return fail("no " + what + " within " + timeout + " on " + address + "; got " + messages);
                }
                TimeUnit.NANOSECONDS.timedWait(messages, left);
            }
        }
    }

    /** Datagrams that arrived after {@code since} and contain the assignment. */
    long count(String assignment, long since) {
        return messages().stream().filter(m -> m.at() > since && m.has(assignment)).count();
    }

    @Override
    public void close() {
        python.destroy();
    }

    /**
     * Starts {@code main} with {@code args} as systemd would with {@code Type=notify} and {@code WatchdogSec=1}:
     * {@code NOTIFY_SOCKET} points at this receiver.
     */
    ChildJvm start(Class<?> main, String... args) {
        return ChildJvm.start(main, Map.of("NOTIFY_SOCKET", address, "WATCHDOG_USEC", "1000000"), List.of(args));
    }
}
