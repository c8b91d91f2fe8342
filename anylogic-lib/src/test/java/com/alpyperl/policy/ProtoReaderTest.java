package com.alpyperl.policy;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class ProtoReaderTest {

    private static ProtoReader reader(byte... bytes) {
        return new ProtoReader(bytes);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    @Test
    public void varintsRoundTripAcrossTheirRange() throws Exception {
        long[] values = {0, 1, 127, 128, 300, 16383, 16384, Integer.MAX_VALUE, 1L << 35, Long.MAX_VALUE, -1, Long.MIN_VALUE};
        ProtoWriter w = new ProtoWriter();
        for (long v : values) {
            w.rawVarint(v);
        }
        ProtoReader r = new ProtoReader(w.toByteArray());
        for (long v : values) {
            assertEquals(v, r.readVarint());
        }
        assertFalse(r.hasMore());
    }

    @Test
    public void knownEncodingsDecode() throws Exception {
        assertEquals(300, reader(bytes(0xac, 0x02)).readVarint());
        assertEquals(-1, reader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).readVarint());
        assertEquals(-2, reader(bytes(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)).readInt32());
    }

    @Test
    public void overlongAndTruncatedVarintsAreRefused() {
        // Eleven bytes, all with the continuation bit: longer than any varint.
        assertThrows(OnnxFormatException.class,
                () -> reader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).readVarint());
        // Ten bytes whose last one carries more than the 64th bit.
        assertThrows(OnnxFormatException.class,
                () -> reader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)).readVarint());
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x80, 0x80)).readVarint());
        assertThrows(OnnxFormatException.class, () -> reader().readVarint());
    }

    @Test
    public void int32FieldsOutOfRangeAreRefused() {
        ProtoWriter w = new ProtoWriter().rawVarint(1L << 40);
        assertThrows(OnnxFormatException.class, () -> new ProtoReader(w.toByteArray()).readInt32());
    }

    @Test
    public void fixedWidthValuesAreLittleEndian() throws Exception {
        ProtoWriter w = new ProtoWriter().fixed32(1, Float.floatToIntBits(1.5f)).fixed64(2, Double.doubleToLongBits(-2.25));
        ProtoReader r = new ProtoReader(w.toByteArray());
        r.readTag();
        assertEquals(1, r.fieldNumber());
        assertEquals(ProtoReader.FIXED32, r.wireType());
        assertEquals(1.5f, r.readFloat(), 0f);
        r.readTag();
        assertEquals(2, r.fieldNumber());
        assertEquals(-2.25, r.readDouble(), 0);
        assertFalse(r.hasMore());
        assertThrows(OnnxFormatException.class, () -> reader(bytes(1, 2, 3)).readFixed32());
        assertThrows(OnnxFormatException.class, () -> reader(bytes(1, 2, 3, 4, 5, 6, 7)).readFixed64());
    }

    @Test
    public void lengthsBeyondTheMessageAreRefused() throws Exception {
        // Field 1, length-delimited, declares 5 bytes but only 2 follow.
        ProtoReader r = reader(bytes(0x0a, 0x05, 0x41, 0x42));
        r.readTag();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, r::readString);
        assertTrue(e.getMessage(), e.getMessage().contains("declares 5 bytes but only 2 remain"));
        // A length of 2^62 (a hostile file) is refused without allocating anything.
        ProtoReader huge = new ProtoReader(new ProtoWriter().tag(1, 2).rawVarint(1L << 62).toByteArray());
        huge.readTag();
        assertThrows(OnnxFormatException.class, huge::readMessage);
    }

    @Test
    public void nestedMessagesCannotReadPastTheirEnd() throws Exception {
        ProtoWriter inner = new ProtoWriter().varint(1, 7);
        byte[] data = new ProtoWriter().message(3, inner).varint(4, 9).toByteArray();
        ProtoReader r = new ProtoReader(data);
        r.readTag();
        ProtoReader sub = r.readMessage();
        sub.readTag();
        assertEquals(7, sub.readVarint());
        assertFalse(sub.hasMore());
        assertThrows(OnnxFormatException.class, sub::readVarint);
        r.readTag();
        assertEquals(4, r.fieldNumber());
        assertEquals(9, r.readVarint());
    }

    @Test
    public void invalidTagsAreRefused() {
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x00)).readTag()); // field number 0
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x0e)).readTag()); // wire type 6
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x0f)).readTag()); // wire type 7
    }

    @Test
    public void everyWireTypeCanBeSkippedButGroups() throws Exception {
        byte[] data = new ProtoWriter().varint(1, 1L << 50).fixed64(2, 5).bytes(3, new byte[] {1, 2, 3}).fixed32(4, 6)
                .varint(5, 42).toByteArray();
        ProtoReader r = new ProtoReader(data);
        for (int i = 0; i < 4; i++) {
            r.readTag();
            r.skipField();
        }
        r.readTag();
        assertEquals(5, r.fieldNumber());
        assertEquals(42, r.readVarint());
        ProtoReader group = reader(bytes(0x0b)); // field 1, start group
        group.readTag();
        assertThrows(OnnxFormatException.class, group::skipField);
    }

    @Test
    public void packedAndUnpackedRepeatedFieldsAreBothRead() throws Exception {
        byte[] data = new ProtoWriter().packedVarints(1, 3, 300, -1).varint(1, 4).packedFloats(2, 1f, -2f).floatValue(2, 3f)
                .packedDoubles(3, 0.5).toByteArray();
        ProtoReader r = new ProtoReader(data);
        ProtoReader.LongList longs = new ProtoReader.LongList();
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.DoubleList doubles = new ProtoReader.DoubleList();
        r.readTag();
        r.readVarints(longs);
        r.readTag();
        r.readVarints(longs);
        r.readTag();
        r.readFloats(floats);
        r.readTag();
        r.readFloats(floats);
        r.readTag();
        r.readDoubles(doubles);
        assertArrayEquals(new long[] {3, 300, -1, 4}, longs.toArray());
        assertArrayEquals(new float[] {1f, -2f, 3f}, floats.toArray(), 0f);
        assertArrayEquals(new double[] {0.5}, doubles.toArray(), 0);
    }

    @Test
    public void packedFloatsOfBrokenLengthAreRefused() throws Exception {
        ProtoReader r = new ProtoReader(new ProtoWriter().bytes(1, new byte[6]).toByteArray());
        r.readTag();
        assertThrows(OnnxFormatException.class, () -> r.readFloats(new ProtoReader.FloatList()));
    }

    @Test
    public void deepNestingIsRefused() throws Exception {
        ProtoWriter w = new ProtoWriter().varint(1, 1);
        for (int i = 0; i < ProtoReader.MAX_DEPTH + 5; i++) {
            w = new ProtoWriter().message(1, w);
        }
        ProtoReader r = new ProtoReader(w.toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            ProtoReader cur = r;
            while (true) {
                cur.readTag();
                cur = cur.readMessage();
            }
        });
        assertTrue(e.getMessage(), e.getMessage().contains("nested deeper"));
    }

    @Test
    public void invalidUtf8IsRefused() throws Exception {
        ProtoReader r = new ProtoReader(new ProtoWriter().bytes(1, bytes(0x41, 0xc3)).toByteArray());
        r.readTag();
        assertThrows(OnnxFormatException.class, r::readString);
        ProtoReader ok = new ProtoReader(new ProtoWriter().string(1, "pólicy ✓").toByteArray());
        ok.readTag();
        assertEquals("pólicy ✓", ok.readString());
    }

    @Test
    public void wrongWireTypeForAFieldIsRefused() throws Exception {
        ProtoReader r = new ProtoReader(new ProtoWriter().varint(1, 5).toByteArray());
        r.readTag();
        assertThrows(OnnxFormatException.class, () -> r.expect(ProtoReader.LENGTH_DELIMITED));
    }
}
