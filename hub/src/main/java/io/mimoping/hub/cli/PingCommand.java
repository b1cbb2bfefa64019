package io.mimoping.hub.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mimoping.agent.engine.IcmpEngine;
import io.mimoping.agent.icmp.IcmpFamily;
import io.mimoping.hub.event.EventSink;
import io.mimoping.hub.event.EventWriter;
import io.mimoping.hub.task.AgentDirectory;
import io.mimoping.hub.task.InvalidRequestException;
import io.mimoping.hub.task.TaskRequest;
import io.mimoping.hub.task.TaskRequestParser;
import io.mimoping.hub.task.TaskResult;
import io.mimoping.hub.task.TaskRunner;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code mimoping ping}: one-shot pings from this host, printing the API's NDJSON events on stdout, or with
 * {@code -o text} fping's lines ({@link TextSink}).
 * Exit status as fping's: 0 every target answered, 1 some did not, 2 some name did not resolve, 3 usage error,
 * 4 this process may not send ICMP at all. Interrupted (Ctrl-C), it ends the task as a client's cancel would and
 * prints what it has: the {@code cancelled} error and the {@code end}, or with {@code -o text} the summaries. When
 * its output is closed ({@code | head}) it stops at once.
 */
public final class PingCommand {

    static final int ALL_ANSWERED = 0;
    static final int SOME_UNANSWERED = 1;
    static final int NOT_FOUND = 2;
    static final int USAGE_ERROR = 3;
    static final int NO_PERMISSION = 4;
    /** Its output was closed: the status of a process a SIGPIPE ended, as fping's would be. */
    static final int OUTPUT_CLOSED = 141;
    /** How long an interrupted command waits for the task to end and its last lines to be written. */
    private static final Duration INTERRUPT_WAIT = Duration.ofSeconds(2);

    static final String USAGE = """
            usage: mimoping ping [-c COUNT] [-i MS] [-W MS] [-s BYTES] [-f FILE] [-o ndjson|text] TARGET...
              -c COUNT   probes per target (default 3)
              -i MS      interval between probes to the same target, in ms (default 1000)
              -W MS      timeout of each probe, in ms (default 10000)
              -s BYTES   ICMP payload size (default 56)
              -f FILE    read targets from FILE, one per line ('-' reads stdin; '#' starts a comment)
              -o FORMAT  ndjson (default): one JSON event per line, the format of POST /ping-task;
                         text: fping's lines, a summary per target on stderr at the end
              -h         this text
            Option values may be attached (-c5). Exit status: 0 every target answered, 1 some target did
            not, 2 some name did not resolve, 3 usage error, 4 no permission to send ICMP.""";

    /** Option letters and the request field each sets. */
    private static final Map<String, String> FIELDS = Map.of("-c", "count", "-i", "interval", "-W", "timeout", "-s", "size");
    /** The options that take a value, which may also be attached to them ({@code -c5}). */
    private static final Set<String> WITH_VALUE = Set.of("-c", "-i", "-W", "-s", "-f", "-o");

    private PingCommand() {
    }

    /** What the command line asks for: the task, and how its events are printed. */
    private record Invocation(TaskRequest request, boolean text) {
    }

    public static void main(String[] args) throws IOException {
        // Not System.out: a PrintStream swallows the error of a closed pipe, and the task would run on unread.
        OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
        TaskRunner.Cancellation cancellation = new TaskRunner.Cancellation();
        CountDownLatch written = new CountDownLatch(1);
        AtomicInteger status = new AtomicInteger(-1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Interrupted (SIGINT, SIGTERM): the JVM is stopping whatever main does, with status 130 or 143 unless
            // this hook ends it first, with the status the command's outcome gives, as fping's.
            cancellation.cancel("interrupted");
            try {
                if (written.await(INTERRUPT_WAIT.toMillis(), TimeUnit.MILLISECONDS) && status.get() >= 0) {
                    Runtime.getRuntime().halt(status.get());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "mimoping-ping-interrupted"));
        try {
            int outcome = run(args, System.in, out, System.err, cancellation);
            try {
                out.flush();
            } catch (IOException e) {
                outcome = OUTPUT_CLOSED;
            }
            status.set(outcome);
        } finally {
            written.countDown();
        }
        System.exit(status.get());
    }

    static int run(String[] args, InputStream stdin, OutputStream out, PrintStream err) {
        return run(args, stdin, out, err, new TaskRunner.Cancellation());
    }

    /** Runs the command; {@code cancellation} ends its task early, as an interrupt does. */
    static int run(String[] args, InputStream stdin, OutputStream out, PrintStream err,
                   TaskRunner.Cancellation cancellation) {
        Invocation invocation;
        try {
            invocation = parse(args, stdin);
        } catch (UsageException e) {
            err.println("mimoping ping: " + e.getMessage());
            err.println(USAGE);
            return USAGE_ERROR;
        } catch (HelpRequested e) {
            err.println(USAGE);
            return ALL_ANSWERED;
        }
        try (IcmpEngine engine = IcmpEngine.open()) {
            if (engine.mode(IcmpFamily.V4).isEmpty() && engine.mode(IcmpFamily.V6).isEmpty()) {
                err.println("mimoping ping: " + engine.unavailable(IcmpFamily.V4).orElseThrow());
                return NO_PERMISSION;
            }
            String taskId = HexFormat.of().toHexDigits(new SecureRandom().nextLong());
            EventSink sink = invocation.text() ? new TextSink(new PrintStream(out, false, StandardCharsets.UTF_8), err)
                    : new EventWriter(out, taskId);
            TaskResult result;
            try {
                result = new TaskRunner(engine, AgentDirectory.NONE, null).run(taskId, invocation.request(), sink,
                        cancellation);
            } catch (UncheckedIOException e) {
                return OUTPUT_CLOSED; // the task stopped at every side
            }
            for (String target : result.unresolved()) {
                err.println("mimoping ping: " + target + ": the name did not resolve");
            }
            for (String target : result.unanswered()) {
                err.println("mimoping ping: no reply from " + target);
            }
            if (!result.unresolved().isEmpty()) {
                return NOT_FOUND;
            }
            return result.unanswered().isEmpty() ? ALL_ANSWERED : SOME_UNANSWERED;
        }
    }

    private static Invocation parse(String[] args, InputStream stdin) {
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode body = json.createObjectNode();
        ArrayNode targets = body.putArray("targets");
        boolean options = true;
        boolean text = false;
        args = detached(args);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (options && arg.equals("--")) {
                options = false;
            } else if (options && (arg.equals("-h") || arg.equals("--help"))) {
                throw new HelpRequested();
            } else if (options && FIELDS.containsKey(arg)) {
                body.put(FIELDS.get(arg), number(arg, value(args, i++)));
            } else if (options && arg.equals("-f")) {
                readTargets(value(args, i++), stdin).forEach(targets::add);
            } else if (options && arg.equals("-o")) {
                String format = value(args, i++);
                text = switch (format) {
                    case "text" -> true;
                    case "ndjson" -> false;
                    default -> throw new UsageException("-o must be ndjson or text, got '" + format + "'");
                };
            } else if (options && arg.startsWith("-") && arg.length() > 1) {
                throw new UsageException("unknown option '" + arg + "'");
            } else {
                targets.add(arg);
            }
        }
        if (targets.isEmpty()) {
            throw new UsageException("no target given");
        }
        try {
            return new Invocation(new TaskRequestParser().parse(json.writeValueAsBytes(body)), text);
        } catch (InvalidRequestException e) {
            String option = FIELDS.entrySet().stream().filter(f -> f.getValue().equals(e.field()))
                    .map(Map.Entry::getKey).findFirst().orElse(e.field());
            throw new UsageException(option + ": " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode the request", e);
        }
    }

    /** The arguments with each attached option value ({@code -c5}) as an argument of its own ({@code -c 5}). */
    private static String[] detached(String[] args) {
        List<String> split = new ArrayList<>();
        boolean options = true;
        for (String arg : args) {
            options &= !arg.equals("--");
            if (options && arg.length() > 2 && WITH_VALUE.contains(arg.substring(0, 2))) {
                split.add(arg.substring(0, 2));
                split.add(arg.substring(2));
            } else {
                split.add(arg);
            }
        }
        return split.toArray(String[]::new);
    }

    private static String value(String[] args, int i) {
        if (i + 1 >= args.length) {
            throw new UsageException(args[i] + " needs a value");
        }
        return args[i + 1];
    }

    private static long number(String option, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new UsageException(option + " must be a whole number, got '" + value + "'");
        }
    }

    private static List<String> readTargets(String file, InputStream stdin) {
        try (BufferedReader reader = file.equals("-")
                ? new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            List<String> targets = new ArrayList<>();
            String line;
            while ((line = reader.readLine()) != null) {
                int comment = line.indexOf('#');
                String target = (comment >= 0 ? line.substring(0, comment) : line).strip();
                if (!target.isEmpty()) {
                    targets.add(target);
                }
            }
            return targets;
        } catch (NoSuchFileException e) {
            throw new UsageException("-f: cannot read '" + file + "': no such file");
        } catch (AccessDeniedException e) {
            throw new UsageException("-f: cannot read '" + file + "': permission denied");
        } catch (IOException e) {
            throw new UsageException("-f: cannot read '" + file + "': " + e);
        }
    }

    private static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private static final class HelpRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super(null, null, false, false);
        }
    }
}
