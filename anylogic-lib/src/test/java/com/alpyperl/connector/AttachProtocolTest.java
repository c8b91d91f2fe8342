package com.alpyperl.connector;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

/** The attach protocol's codec: messages round trip, limits refuse before allocating, the proofs. */
public class AttachProtocolTest {
    private static final AttachProtocol.Waiting NEVER_GIVE_UP = () -> { };

    private static byte[] header(int kind, int length) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(kind).putInt(length).array();
    }

    @Test
    public void aDecisionRoundTripsAsLittleEndianDoubles() throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        AttachProtocol.Writer writer = new AttachProtocol.Writer(sent, 16);
        ByteBuffer message = writer.start(AttachProtocol.TERMINATED, 24);
        message.putDouble(0.5).putDouble(-2.25).putDouble(1.0);
        writer.send();
        byte[] bytes = sent.toByteArray();
        assertEquals(8 + 24, bytes.length);
        assertEquals(AttachProtocol.TERMINATED, bytes[0]);  // little-endian: the kind's low byte first
        assertEquals(0.5, ByteBuffer.wrap(bytes, 8, 8).order(ByteOrder.LITTLE_ENDIAN).getDouble(), 0);

        AttachProtocol.Reader reader = new AttachProtocol.Reader(new ByteArrayInputStream(bytes), 8);
        assertEquals(AttachProtocol.TERMINATED, reader.read(NEVER_GIVE_UP));
        assertEquals(24, reader.length());
        assertEquals(-2.25, reader.payload().getDouble(8), 0);
        assertEquals(1.0, reader.payload().getDouble(16), 0);
    }

    @Test
    public void textsRoundTripAsUtf8AndMessagesFollowEachOther() throws IOException {
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        AttachProtocol.Writer writer = new AttachProtocol.Writer(sent, 4);
        writer.send(AttachProtocol.MODEL_ERROR, "caf\u00e9 failed");
        writer.send(AttachProtocol.CLOSE, new byte[0]);
        AttachProtocol.Reader reader = new AttachProtocol.Reader(new ByteArrayInputStream(sent.toByteArray()), 4);
        assertEquals(AttachProtocol.MODEL_ERROR, reader.read(NEVER_GIVE_UP));
        assertEquals("caf\u00e9 failed", reader.text());
        assertEquals(AttachProtocol.CLOSE, reader.read(NEVER_GIVE_UP));
        assertEquals(0, reader.length());
        assertThrows(EOFException.class, () -> reader.read(NEVER_GIVE_UP));
    }

    @Test
    public void aLengthAboveItsKindsLimitIsRefusedBeforeAnythingIsAllocatedOrRead() {
        // Only the header is there: a reader that believed the length would allocate it and then hit the end.
        for (int[] bad : new int[][] {{AttachProtocol.STEP, Integer.MAX_VALUE}, {AttachProtocol.CLOSE, 1},
                {AttachProtocol.WELCOME, 33}, {AttachProtocol.MODEL_ERROR, -1}}) {
            AttachProtocol.Reader reader =
                    new AttachProtocol.Reader(new ByteArrayInputStream(header(bad[0], bad[1])), 8);
            AttachProtocol.ProtocolException refused = assertThrows(AttachProtocol.ProtocolException.class,
                    () -> reader.read(NEVER_GIVE_UP));
            assertTrue(refused.getMessage(), refused.getMessage().contains("claims " + bad[1] + " bytes"));
        }
        AttachProtocol.Reader unknown = new AttachProtocol.Reader(new ByteArrayInputStream(header(99, 0)), 8);
        assertTrue(assertThrows(AttachProtocol.ProtocolException.class, () -> unknown.read(NEVER_GIVE_UP))
                .getMessage().contains("unknown kind 99"));
    }

    @Test
    public void aReadThatTimesOutAsksWhetherToWaitOnAndKeepsWhatItHasRead() throws IOException {
        byte[] whole = new byte[8 + 8];
        System.arraycopy(header(AttachProtocol.STEP, 8), 0, whole, 0, 8);
        ByteBuffer.wrap(whole, 8, 8).order(ByteOrder.LITTLE_ENDIAN).putDouble(3.0);
        InputStream trickle = new InputStream() {
            private int position;
            private boolean pause = true;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] into, int offset, int length) throws IOException {
                pause = !pause;
                if (pause) {
                    throw new SocketTimeoutException("nothing yet");
                }
                if (position == whole.length) {
                    return -1;
                }
                into[offset] = whole[position++];  // one byte at a time, with a timeout in between
                return 1;
            }
        };
        AtomicInteger asked = new AtomicInteger();
        AttachProtocol.Reader reader = new AttachProtocol.Reader(trickle, 8);
        assertEquals(AttachProtocol.STEP, reader.read(asked::incrementAndGet));
        assertEquals(3.0, reader.payload().getDouble(0), 0);
        assertEquals(15, asked.get());

        AttachProtocol.Reader givingUp = new AttachProtocol.Reader(new InputStream() {
            @Override
            public int read() throws IOException {
                throw new SocketTimeoutException("nothing");
            }

            @Override
            public int read(byte[] into, int offset, int length) throws IOException {
                throw new SocketTimeoutException("nothing");
            }
        }, 8);
        IOException stop = assertThrows(IOException.class, () -> givingUp.read(() -> {
            throw new IOException("stopped in AnyLogic");
        }));
        assertEquals("stopped in AnyLogic", stop.getMessage());
    }

    @Test
    public void proofsDependOnTokenRoleAndNonceAndNeverContainTheToken() {
        byte[] token = new byte[32];
        Arrays.fill(token, (byte) 7);
        byte[] nonce = "a nonce of thirty-two bytes.....".getBytes(StandardCharsets.US_ASCII);
        byte[] model = AttachProtocol.proof(token, "model", nonce);
        assertEquals(32, model.length);
        assertArrayEquals(model, AttachProtocol.proof(token, "model", nonce));
        assertFalse(AttachProtocol.sameProof(model, AttachProtocol.proof(token, "python", nonce)));
        byte[] otherToken = token.clone();
        otherToken[0] = 8;
        assertFalse(AttachProtocol.sameProof(model, AttachProtocol.proof(otherToken, "model", nonce)));
        byte[] otherNonce = nonce.clone();
        otherNonce[31] = '!';
        assertFalse(AttachProtocol.sameProof(model, AttachProtocol.proof(token, "model", otherNonce)));
        assertFalse(Arrays.equals(model, token));
    }
}
