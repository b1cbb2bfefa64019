package io.mimoping.hub.stream;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.Arrays;

/** Where a task's {@link io.mimoping.hub.event.EventWriter} writes: each NDJSON line becomes one event of the log. */
final class LogSink extends OutputStream {

    private final EventLog log;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    LogSink(EventLog log) {
        this.log = log;
    }

    @Override
    public void write(int b) {
        write(new byte[]{(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                if (partial.size() == 0) {
                    log.append(Arrays.copyOfRange(b, start, i));
                } else {
                    partial.write(b, start, i - start);
                    log.append(partial.toByteArray());
                    partial.reset();
                }
                start = i + 1;
            }
        }
        partial.write(b, start, off + len - start);
    }
}
