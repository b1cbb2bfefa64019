package io.mimoping.hub.bench;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The client side of {@code bench e2e}: a {@code POST} over a plain socket, its chunked NDJSON answer read
 * line by line as the bytes arrive, as curl does. (A general-purpose HTTP client hands the body over
 * through its own threads and queues, which measured ~10 ms at p99 on this path: the bench would time
 * its client, not the hub.)
 */
final class StreamingPost implements AutoCloseable {

    private static final int READ_TIMEOUT_MS = 30_000;

    private final Socket socket;
    private final BufferedReader lines;

    /**
     * Sends the request and reads the response head.
     *
     * @throws IOException if the hub answers with anything but a chunked 200
     */
    StreamingPost(int port, String path, String json) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(READ_TIMEOUT_MS); // a stream is never silent this long: the hub sends keep-alives
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
        String status = headLine(in);
        boolean chunked = false;
        for (String header = headLine(in); !header.isEmpty(); header = headLine(in)) {
            chunked |= header.toLowerCase(Locale.ROOT).replace(" ", "").equals("transfer-encoding:chunked");
        }
        if (!status.startsWith("HTTP/1.1 200") || !chunked) {
            throw new IOException("POST " + path + " answered '" + status + "'" + (chunked ? "" : " without a chunked body"));
        }
        lines = new BufferedReader(new InputStreamReader(new Chunks(in), StandardCharsets.UTF_8));
    }

    /** The next line of the body, or null at its end. */
    String readLine() throws IOException {
        return lines.readLine();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static String headLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException("the connection closed in the middle of the response head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    /** The body of a chunked transfer: the chunks' data, without their sizes. */
    private static final class Chunks extends InputStream {

        private final InputStream in;
        private long left;
        private boolean ended;

        Chunks(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (ended) {
                return -1;
            }
            if (left == 0) {
                String size = headLine(in);
                if (size.isEmpty()) { // the CRLF that closes the previous chunk
                    size = headLine(in);
                }
                int extension = size.indexOf(';');
                left = Long.parseLong((extension < 0 ? size : size.substring(0, extension)).strip(), 16);
                if (left == 0) {
                    ended = true;
                    return -1;
                }
            }
            int n = in.read(buffer, offset, (int) Math.min(length, left));
            if (n < 0) {
                throw new EOFException("the connection closed in the middle of a chunk");
            }
            left -= n;
            return n;
        }
    }
}
