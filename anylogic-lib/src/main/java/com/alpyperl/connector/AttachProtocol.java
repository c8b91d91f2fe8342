package com.alpyperl.connector;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The messages between an attached model and the Python environment waiting for it ({@code
 * alpyperl/attach.py} holds the same constants; {@code tests/test_attach.py} checks them).
 *
 * <p>A message is a header of two little-endian int32, its kind and the length of its payload,
 * followed by the payload. Numbers in payloads are little-endian float64 and int64, the flat
 * layout of {@link Space}. A reader refuses a length above the limit for its kind before it
 * allocates anything; the buffers of the per-decision messages are allocated once per connection.
 *
 * <p>The conversation: Python sends {@link #CHALLENGE} (a nonce), the model answers {@link #HELLO}
 * (HMAC-SHA256 of the nonce under the token of the connection file, its own nonce, and the model's
 * description as JSON), Python proves that it knows the token too ({@link #WELCOME}) or refuses
 * ({@link #REFUSED}, a text). Then Python sends {@link #CONFIGURE} (the agreed spaces), {@link #RESET}
 * (seed, parameters as JSON) or {@link #STEP} (the flat action), and the model answers each reset or
 * step with a decision ({@link #RUNNING}, {@link #TERMINATED}, {@link #TRUNCATED}: observation and
 * reward), {@link #MODEL_ERROR} or {@link #ACTION_REFUSED} (texts). Either side may end with {@link
 * #CLOSE} (Python) or {@link #STOPPED} (the model, a text saying why).
 */
final class AttachProtocol {
    /** Bumped whenever a message changes; the challenge carries it. */
    static final int VERSION = 1;

    static final int CHALLENGE = 1;
    static final int HELLO = 2;
    static final int WELCOME = 3;
    static final int REFUSED = 4;
    static final int CONFIGURE = 5;
    static final int RESET = 6;
    static final int STEP = 7;
    static final int CLOSE = 8;
    static final int RUNNING = 10;
    static final int TERMINATED = 11;
    static final int TRUNCATED = 12;
    static final int MODEL_ERROR = 13;
    static final int ACTION_REFUSED = 14;
    static final int STOPPED = 15;

    /** Bytes of a nonce and of an HMAC. */
    static final int NONCE_BYTES = 32;
    /** The longest payload of a text or JSON message (descriptions, errors, parameters). */
    static final int MAX_TEXT_BYTES = 1 << 20;
    /** The longest flat value (actions, observations): as many doubles as fit in 64 MiB. */
    static final int MAX_VALUES = 8 << 20;

    private AttachProtocol() {
    }

    /** The payload limit of a message kind; -1 for a kind that does not exist. */
    static int limit(int kind) {
        switch (kind) {
            case CHALLENGE: return 4 + NONCE_BYTES;
            case WELCOME: return NONCE_BYTES;
            case HELLO: return 2 * NONCE_BYTES + MAX_TEXT_BYTES;
            case REFUSED: case CONFIGURE: case MODEL_ERROR: case ACTION_REFUSED: case STOPPED:
                return MAX_TEXT_BYTES;
            case RESET: return 8 + MAX_TEXT_BYTES;
            case STEP: case RUNNING: case TERMINATED: case TRUNCATED: return 8 * MAX_VALUES;
            case CLOSE: return 0;
            default: return -1;
        }
    }

    /** HMAC-SHA256 of {@code role} and {@code nonce} under {@code token}: proves that a side knows the token. */
    static byte[] proof(byte[] token, String role, byte[] nonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(token, "HmacSHA256"));
            mac.update(role.getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal(nonce);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java cannot compute HMAC-SHA256: " + e, e);
        }
    }

    /** Whether two proofs are equal, in time independent of where they differ. */
    static boolean sameProof(byte[] expected, byte[] given) {
        return MessageDigest.isEqual(expected, given);
    }

    /** A message that breaks the protocol: its kind or length is not allowed where it came. */
    static final class ProtocolException extends IOException {
        ProtocolException(String message) {
            super(message);
        }
    }

    /** What a reader does while no byte comes: throws to give up waiting, returns to wait on. */
    interface Waiting {
        void stillWaiting() throws IOException;
    }

    /**
     * Reads messages from a stream into one buffer that grows only for a longer message that its
     * kind allows; {@link #read} returns the kind and leaves the payload in {@link #payload()}.
     */
    static final class Reader {
        private final InputStream in;
        private final byte[] header = new byte[8];
        private byte[] buffer;
        private ByteBuffer view;
        private int length;

        Reader(InputStream in, int initialCapacity) {
            this.in = in;
            this.buffer = new byte[Math.max(64, initialCapacity)];
            this.view = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
        }

        /**
         * The next message's kind; its payload is {@link #payload()}. End of stream before a whole
         * message is an {@link java.io.EOFException}; a kind that does not exist or a length above
         * its kind's limit a {@link ProtocolException}, thrown before anything is allocated.
         */
        int read(Waiting waiting) throws IOException {
            fill(header, 8, waiting);
            ByteBuffer head = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            int kind = head.getInt(0);
            int claimed = head.getInt(4);
            int limit = limit(kind);
            if (limit < 0) {
                throw new ProtocolException("a message of unknown kind " + kind + " came");
            }
            if (claimed < 0 || claimed > limit) {
                throw new ProtocolException("a message of kind " + kind + " claims " + claimed
                        + " bytes, more than the " + limit + " it may have");
            }
            if (claimed > buffer.length) {
                buffer = new byte[claimed];
                view = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
            }
            fill(buffer, claimed, waiting);
            length = claimed;
            return kind;
        }

        /** The payload of the last message, little-endian, from 0 to {@link #length()}. */
        ByteBuffer payload() {
            return view;
        }

        /** The length of the last message's payload. */
        int length() {
            return length;
        }

        /** The last message's payload as UTF-8 text. */
        String text() {
            return new String(buffer, 0, length, StandardCharsets.UTF_8);
        }

        private void fill(byte[] into, int count, Waiting waiting) throws IOException {
            int done = 0;
            while (done < count) {
                int n;
                try {
                    n = in.read(into, done, count - done);
                } catch (SocketTimeoutException e) {
                    waiting.stillWaiting();
                    continue;
                }
                if (n < 0) {
                    throw new java.io.EOFException("the connection was closed");
                }
                done += n;
            }
        }
    }

    /** Writes messages, each with one write of a buffer allocated once (it grows for longer messages). */
    static final class Writer {
        private final OutputStream out;
        private byte[] buffer;
        private ByteBuffer view;

        Writer(OutputStream out, int initialCapacity) {
            this.out = out;
            this.buffer = new byte[8 + Math.max(56, initialCapacity)];
            this.view = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
        }

        /** A buffer for a message of {@code payload} bytes, its header written; fill it from index 8. */
        ByteBuffer start(int kind, int payload) {
            if (8 + payload > buffer.length) {
                buffer = new byte[8 + payload];
                view = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
            }
            view.clear();
            view.putInt(kind).putInt(payload);
            return view;
        }

        /** Sends the message begun by {@link #start}. */
        void send() throws IOException {
            out.write(buffer, 0, view.position());
            out.flush();
        }

        /** Sends a message whose payload is {@code bytes}. */
        void send(int kind, byte[] bytes) throws IOException {
            start(kind, bytes.length).put(bytes);
            send();
        }

        /** Sends a text message. */
        void send(int kind, String text) throws IOException {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            send(kind, bytes.length > MAX_TEXT_BYTES ? java.util.Arrays.copyOf(bytes, MAX_TEXT_BYTES) : bytes);
        }
    }
}
