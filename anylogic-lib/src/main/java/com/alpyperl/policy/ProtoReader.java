package com.alpyperl.policy;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * Reads one protobuf message in wire format from a region of a byte array.
 *
 * <p>Every read checks the bytes that are actually present: a length that runs past the end of
 * the region, a varint longer than ten bytes, an unknown wire type or messages nested deeper than
 * {@link #MAX_DEPTH} raise {@link OnnxFormatException}. Each field read consumes at least one
 * byte, so a loop over {@link #hasMore()} always ends.
 */
final class ProtoReader {

    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int START_GROUP = 3;
    static final int END_GROUP = 4;
    static final int FIXED32 = 5;

    /** Deepest nesting of messages accepted (ONNX needs fewer than ten levels). */
    static final int MAX_DEPTH = 32;

    private final byte[] buf;
    private final int limit;
    private final int depth;
    private int pos;
    private int lastTag;
    private int lastLength;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length, 0);
    }

    ProtoReader(byte[] buf, int offset, int length, int depth) {
        if (offset < 0 || length < 0 || offset > buf.length - length) {
            throw new IllegalArgumentException("region [" + offset + ", +" + length + ") outside array of " + buf.length);
        }
        this.buf = buf;
        this.pos = offset;
        this.limit = offset + length;
        this.depth = depth;
    }

    /** Whether another field follows in this message. */
    boolean hasMore() {
        return pos < limit;
    }

    /** Reads the next field's tag; {@link #fieldNumber()} and {@link #wireType()} describe it. */
    int readTag() throws OnnxFormatException {
        int at = pos;
        long tag = readVarint();
        int wire = (int) (tag & 7);
        long field = tag >>> 3;
        if (field <= 0 || field > 536_870_911L) {
            throw new OnnxFormatException("invalid protobuf field number " + field + " at byte " + at);
        }
        if (wire != VARINT && wire != FIXED64 && wire != LENGTH_DELIMITED && wire != FIXED32
                && wire != START_GROUP && wire != END_GROUP) {
            throw new OnnxFormatException("invalid protobuf wire type " + wire + " at byte " + at);
        }
        lastTag = (int) tag;
        return lastTag;
    }

    int fieldNumber() {
        return lastTag >>> 3;
    }

    int wireType() {
        return lastTag & 7;
    }

    /** Reads a base-128 varint of at most ten bytes. */
    long readVarint() throws OnnxFormatException {
        long result = 0;
        for (int shift = 0, i = 0; i < 10; i++, shift += 7) {
            if (pos >= limit) {
                throw truncated("a varint");
            }
            int b = buf[pos++] & 0xff;
            if (i == 9 && b > 1) {
                throw new OnnxFormatException("protobuf varint too long at byte " + (pos - 10));
            }
            result |= (long) (b & 0x7f) << shift;
            if (b < 0x80) {
                return result;
            }
        }
        throw new OnnxFormatException("protobuf varint too long at byte " + (pos - 10));
    }

    /** Reads a varint field that protobuf declares as int32 (negative values use ten bytes). */
    int readInt32() throws OnnxFormatException {
        long v = readVarint();
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new OnnxFormatException("protobuf int32 value " + v + " out of range at byte " + pos);
        }
        return (int) v;
    }

    int readFixed32() throws OnnxFormatException {
        need(4, "a fixed32 value");
        int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    long readFixed64() throws OnnxFormatException {
        need(8, "a fixed64 value");
        long lo = readFixed32() & 0xffffffffL;
        long hi = readFixed32() & 0xffffffffL;
        return lo | hi << 32;
    }

    float readFloat() throws OnnxFormatException {
        return Float.intBitsToFloat(readFixed32());
    }

    double readDouble() throws OnnxFormatException {
        return Double.longBitsToDouble(readFixed64());
    }

    /** Reads the length prefix of a length-delimited field and checks that many bytes follow. */
    int readLength() throws OnnxFormatException {
        int at = pos;
        long len = readVarint();
        if (len < 0 || len > limit - pos) {
            throw new OnnxFormatException("truncated or corrupt ONNX data: a field at byte " + at + " declares "
                    + len + " bytes but only " + (limit - pos) + " remain");
        }
        return (int) len;
    }

    /** Reads a length-delimited field as a nested message. */
    ProtoReader readMessage() throws OnnxFormatException {
        if (depth + 1 > MAX_DEPTH) {
            throw new OnnxFormatException("protobuf messages nested deeper than " + MAX_DEPTH + " levels");
        }
        int len = readLength();
        ProtoReader sub = new ProtoReader(buf, pos, len, depth + 1);
        pos += len;
        return sub;
    }

    /** Reads a length-delimited field as strict UTF-8 text. */
    String readString() throws OnnxFormatException {
        int len = readLength();
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buf, pos, len)).toString();
            pos += len;
            return s;
        } catch (CharacterCodingException e) {
            throw new OnnxFormatException("invalid UTF-8 text in a string field at byte " + pos);
        }
    }

    /**
     * Skips a length-delimited field and returns the offset of its first byte in the underlying
     * array; {@link #lastLength()} is its length. Used for large byte fields read later in place.
     */
    int skipBytes() throws OnnxFormatException {
        int len = readLength();
        int start = pos;
        pos += len;
        lastLength = len;
        return start;
    }

    int lastLength() {
        return lastLength;
    }

    byte[] array() {
        return buf;
    }

    /** Skips the value of the field whose tag was just read. Groups (deprecated) are refused. */
    void skipField() throws OnnxFormatException {
        switch (wireType()) {
            case VARINT:
                readVarint();
                break;
            case FIXED64:
                need(8, "a fixed64 value");
                pos += 8;
                break;
            case FIXED32:
                need(4, "a fixed32 value");
                pos += 4;
                break;
            case LENGTH_DELIMITED:
                skipBytes();
                break;
            default:
                throw new OnnxFormatException("unsupported protobuf group field " + fieldNumber() + " at byte " + pos);
        }
    }

    /** Reads one or a packed run of int64 varints into {@code out}, depending on the wire type. */
    void readVarints(LongList out) throws OnnxFormatException {
        if (wireType() == VARINT) {
            out.add(readVarint());
        } else if (wireType() == LENGTH_DELIMITED) {
            int len = readLength();
            int end = pos + len;
            ProtoReader packed = new ProtoReader(buf, pos, len, depth);
            while (packed.hasMore()) {
                out.add(packed.readVarint());
            }
            pos = end;
        } else {
            throw wrongWireType();
        }
    }

    /** Reads one or a packed run of 32-bit floats into {@code out}. */
    void readFloats(FloatList out) throws OnnxFormatException {
        if (wireType() == FIXED32) {
            out.add(readFloat());
        } else if (wireType() == LENGTH_DELIMITED) {
            int len = readLength();
            if (len % 4 != 0) {
                throw new OnnxFormatException("packed float field of " + len + " bytes is not a multiple of 4");
            }
            for (int i = 0; i < len / 4; i++) {
                out.add(readFloat());
            }
        } else {
            throw wrongWireType();
        }
    }

    /** Reads one or a packed run of 64-bit floats into {@code out}. */
    void readDoubles(DoubleList out) throws OnnxFormatException {
        if (wireType() == FIXED64) {
            out.add(readDouble());
        } else if (wireType() == LENGTH_DELIMITED) {
            int len = readLength();
            if (len % 8 != 0) {
                throw new OnnxFormatException("packed double field of " + len + " bytes is not a multiple of 8");
            }
            for (int i = 0; i < len / 8; i++) {
                out.add(readDouble());
            }
        } else {
            throw wrongWireType();
        }
    }

    /** Checks that the field just read has the given wire type. */
    void expect(int wireType) throws OnnxFormatException {
        if (wireType() != wireType) {
            throw wrongWireType();
        }
    }

    private OnnxFormatException wrongWireType() {
        return new OnnxFormatException("protobuf field " + fieldNumber() + " has unexpected wire type " + wireType()
                + " at byte " + pos);
    }

    private void need(int n, String what) throws OnnxFormatException {
        if (limit - pos < n) {
            throw truncated(what);
        }
    }

    private OnnxFormatException truncated(String what) {
        return new OnnxFormatException("truncated ONNX data: " + what + " at byte " + pos + " runs past the end of its message");
    }

    /** The next capacity of a growable list holding {@code size} elements. */
    static int grow(int size) {
        if (size >= Integer.MAX_VALUE - 16) {
            throw new OutOfMemoryError("list too large");
        }
        return (int) Math.min((long) size * 2, Integer.MAX_VALUE - 16);
    }

    /** A growable list of longs (no boxing). */
    static final class LongList {
        long[] data = new long[8];
        int size;

        void add(long v) {
            if (size == data.length) {
                data = java.util.Arrays.copyOf(data, grow(size));
            }
            data[size++] = v;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }

    /** A growable list of floats (no boxing). */
    static final class FloatList {
        float[] data = new float[8];
        int size;

        void add(float v) {
            if (size == data.length) {
                data = java.util.Arrays.copyOf(data, grow(size));
            }
            data[size++] = v;
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }

    /** A growable list of doubles (no boxing). */
    static final class DoubleList {
        double[] data = new double[8];
        int size;

        void add(double v) {
            if (size == data.length) {
                data = java.util.Arrays.copyOf(data, grow(size));
            }
            data[size++] = v;
        }

        double[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
