package com.alpyperl.policy;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.Test;

/**
 * Broken, truncated and hostile files: each is refused with an {@link OnnxFormatException} whose
 * message says what is wrong, without allocating more than a few megabytes.
 */
public class MalformedModelTest {

    /** Memory a refused load may allocate (the files here are a few kilobytes). */
    private static final long ALLOCATION_LIMIT = 16L << 20;

    private interface Load {
        void run() throws Exception;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Loads {@code bytes}, expects a refusal whose message contains {@code fragment}; returns the message. */
    private static String refused(byte[] bytes, String fragment) {
        return refused(() -> OnnxModel.load(bytes), fragment);
    }

    private static String refused(OnnxBuilder b, String fragment) {
        return refused(b.build(), fragment);
    }

    private static String refused(Load load, String fragment) {
        return refused(load, fragment, ALLOCATION_LIMIT);
    }

    private static String refused(Load load, String fragment, long allocationLimit) {
        long before = allocatedBytes();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, load::run);
        long used = allocatedBytes() - before;
        assertTrue("allocated " + used + " bytes to refuse: " + e.getMessage(), used < allocationLimit);
        assertTrue("message '" + e.getMessage() + "' lacks '" + fragment + "'", e.getMessage().contains(fragment));
        return e.getMessage();
    }

    private static String[] in(String... names) {
        return names;
    }

    /** A valid model of moderate size: 8 inputs, 64 hidden tanh units, 3 outputs, random weights. */
    private static byte[] mediumModel() {
        Random random = new Random(11);
        float[] w1 = new float[64 * 8];
        float[] w2 = new float[3 * 64];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (float) random.nextGaussian();
        }
        OnnxBuilder b = new OnnxBuilder().input("obs", "batch", 8).output("logits", "batch", 3)
                .initializer("w1", new int[] {64, 8}, w1).typedInitializer("w2", new int[] {3, 64}, w2);
        b.node("Gemm", "fc1", in("obs", "w1"), "h").attr("transB", 1L);
        b.node("Tanh", "act", in("h"), "a");
        b.node("Gemm", "fc2", in("a", "w2"), "logits").attr("transB", 1L);
        return b.build();
    }

    // ------------------------------------------------------------------ truncated and random data

    @Test
    public void everyTruncationOfASmallModelIsRefused() throws Exception {
        byte[] full = OnnxModelTest.mlp().build();
        int loaded = 0;
        for (int length = 0; length < full.length; length++) {
            byte[] cut = Arrays.copyOf(full, length);
            long before = allocatedBytes();
            try {
                OnnxModel model = OnnxModel.load(cut);
                // Protobuf cannot tell a message cut exactly between two fields from a shorter one.
                // The builder writes the two metadata entries last, so the only prefixes that load
                // are the model without its last metadata entry, or without both; nothing else.
                loaded++;
                assertTrue("a truncation to " + length + " of " + full.length + " bytes kept all metadata",
                        model.metadata().size() < 2);
                float[] x = {1, 2, 3};
                assertArrayEquals(OnnxModelTest.mlpReference(x), model.run(x), 1e-5f);
            } catch (OnnxFormatException expected) {
                assertTrue(allocatedBytes() - before < ALLOCATION_LIMIT);
            }
        }
        assertEquals(2, loaded);
    }

    @Test
    public void truncationsAtEveryTenthOfALargerModelAreRefused() {
        byte[] full = mediumModel();
        assertTrue(full.length > 2000);
        for (int tenth = 0; tenth < 10; tenth++) {
            byte[] cut = Arrays.copyOf(full, full.length * tenth / 10);
            refused(cut, tenth == 0 ? "empty" : "");
        }
        refused(Arrays.copyOf(full, full.length - 1), "truncated");
    }

    @Test
    public void randomBytesAreRefused() {
        Random random = new Random(2024);
        for (int t = 0; t < 500; t++) {
            byte[] junk = new byte[1 + random.nextInt(4096)];
            random.nextBytes(junk);
            refused(junk, "");
        }
    }

    @Test
    public void corruptedBytesNeverCauseAnythingButACleanRefusalOrAWorkingModel() {
        byte[] good = mediumModel();
        Random random = new Random(77);
        int refusedCount = 0;
        for (int t = 0; t < 3000; t++) {
            byte[] bad = good.clone();
            int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            }
            long before = allocatedBytes();
            try {
                OnnxModel model = OnnxModel.load(bad);
                // A change inside the weights loads: the model must still run and answer.
                if (model.inputNames().size() == 1 && model.outputNames().size() == 1) {
                    int size = 1;
                    for (int d : model.inputShape(model.inputNames().get(0))) {
                        size *= Math.max(d, 1);
                    }
                    model.run(new float[size]);
                }
            } catch (OnnxFormatException e) {
                refusedCount++;
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
            } catch (RuntimeException | Error e) {
                throw new AssertionError("corruption " + t + " gave " + e, e);
            }
            assertTrue("corruption " + t + " allocated too much", allocatedBytes() - before < ALLOCATION_LIMIT);
        }
        assertTrue("only " + refusedCount + " of 3000 corruptions were noticed", refusedCount > 100);
    }

    // ------------------------------------------------------------------ hostile sizes

    @Test
    public void absurdTensorSizesAreRefusedBeforeAllocating() {
        ProtoWriter huge = new ProtoWriter().varint(1, 1L << 40).varint(1, 1L << 40).varint(2, OnnxBuilder.FLOAT)
                .bytes(9, new byte[16]).string(8, "w");
        refused(OnnxModelTest.mlp().initializer(huge), "invalid dimension");
        ProtoWriter big = new ProtoWriter().varint(1, 100000).varint(1, 100000).varint(2, OnnxBuilder.FLOAT)
                .bytes(9, new byte[16]).string(8, "w");
        refused(OnnxModelTest.mlp().initializer(big), "exceeds the limit of 16777216 elements");
        ProtoWriter shortData = new ProtoWriter().varint(1, 1000).varint(2, OnnxBuilder.FLOAT).packedFloats(4, 1, 2, 3)
                .string(8, "w");
        refused(OnnxModelTest.mlp().initializer(shortData), "tensor 'w' declares 1000 elements of FLOAT but holds 3 values");
        ProtoWriter shortRaw = new ProtoWriter().varint(1, 1000).varint(2, OnnxBuilder.FLOAT).bytes(9, new byte[40])
                .string(8, "w");
        refused(OnnxModelTest.mlp().initializer(shortRaw), "(4000 bytes) but holds 40 bytes");
        ProtoWriter negative = new ProtoWriter().varint(1, -5).varint(2, OnnxBuilder.FLOAT).string(8, "w");
        refused(OnnxModelTest.mlp().initializer(negative), "invalid dimension -5");
    }

    @Test
    public void absurdLengthPrefixesAreRefused() {
        byte[] model = new ProtoWriter().varint(1, 8).tag(7, 2).rawVarint(1L << 62).toByteArray();
        refused(model, "declares 4611686018427387904 bytes");
        byte[] overlong = new ProtoWriter().tag(1, 0).raw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
            (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01}).toByteArray();
        refused(overlong, "varint too long");
    }

    @Test
    public void graphsThatWouldAllocateHugeTensorsAreRefused() {
        OnnxBuilder b = OnnxModelTest.mlp().longInitializer("shape", new int[] {2}, 1 << 20, 1 << 20);
        b.node("ConstantOfShape", "fill", in("shape"), "z");
        refused(b, "node 'fill' (ConstantOfShape): a tensor of shape [1048576, 1048576] exceeds the limit");
        OnnxBuilder e = new OnnxBuilder().input("x", 1, 1).output("y").longInitializer("shape", new int[] {2}, 40000, 40000);
        e.node("Expand", "expand", in("x", "shape"), "y");
        refused(e, "exceeds the limit");
        OnnxBuilder r = new OnnxBuilder().input("x", 1).output("y").longInitializer("a", new int[0], 0)
                .longInitializer("b", new int[0], Long.MAX_VALUE).longInitializer("d", new int[0], 1);
        r.node("Range", "range", in("a", "b", "d"), "y");
        refused(r, "Range would produce");
        OnnxBuilder t = new OnnxBuilder().input("x", 2, 2).output("y").longInitializer("reps", new int[] {2}, 1 << 30, 1 << 30);
        t.node("Tile", "tile", in("x", "reps"), "y");
        refused(t, "too large");
        // Tensors that are each allowed (10M floats, 40 MB) but together too large: the load stops
        // when the plan's working memory reaches its limit, so it never allocates more than that.
        OnnxBuilder many = new OnnxBuilder().input("x", 1).output("y0").longInitializer("shape", new int[] {1}, 10_000_000);
        for (int i = 0; i < 10; i++) {
            many.node("ConstantOfShape", "c" + i, in("shape"), "y" + i);
        }
        byte[] bytes = many.build();
        refused(() -> OnnxModel.load(bytes), "node 'c3' (ConstantOfShape): the graph needs more than 128 MB of working memory",
                Planner.MAX_PLAN_BYTES + ALLOCATION_LIMIT);
    }

    // ------------------------------------------------------------------ unsupported content

    @Test
    public void unsupportedOperatorsAreNamedWithTheirNodes() {
        OnnxBuilder b = new OnnxBuilder().input("x", "batch", 4).output("y", "batch", 8);
        b.node("LSTM", "lstm_1", in("x"), "y");
        String message = refused(b, "unsupported ONNX operator 'LSTM' in node 'lstm_1'");
        assertEquals("unsupported ONNX operator 'LSTM' in node 'lstm_1'", message);
        OnnxBuilder several = new OnnxBuilder().input("x", "batch", 4).output("y", "batch", 8);
        several.node("Conv", "conv", in("x"), "c");
        several.node("Relu", "relu", in("c"), "r");
        several.node("If", "", in("r"), "y").attrGraph("then_branch");
        refused(several, "unsupported ONNX operator 'Conv' in node 'conv'; unsupported ONNX operator 'If' in the node computing 'y'");
        OnnxBuilder custom = new OnnxBuilder().input("x", 4).output("y", 4);
        custom.node("FusedGemm", "fg", in("x"), "y").domain("com.microsoft");
        refused(custom, "unsupported operator 'FusedGemm' of domain 'com.microsoft' in node 'fg'");
    }

    @Test
    public void unsupportedOrMistypedAttributesAreNamed() {
        OnnxBuilder b = OnnxModelTest.mlp();
        b.node("Softmax", "sm", in("logits"), "p").attr("axis", 1L).attr("temperature", 2f);
        refused(b, "node 'sm' (Softmax): unsupported attribute 'temperature' of ONNX operator 'Softmax' (opset 17)");
        OnnxBuilder wrongType = OnnxModelTest.mlp();
        wrongType.node("Softmax", "sm", in("logits"), "p").attr("axis", 1f);
        refused(wrongType, "attribute 'axis' has type FLOAT, expected INT");
        OnnxBuilder gelu = new OnnxBuilder().opset(20).input("x", 2).output("y", 2);
        gelu.node("Gelu", "g", in("x"), "y").attr("approximate", "erf-ish");
        refused(gelu, "unsupported value 'erf-ish' of attribute 'approximate'");
        OnnxBuilder cast = new OnnxBuilder().input("x", 2).output("y", 2);
        cast.node("Cast", "c", in("x"), "y").attr("to", 10L);
        refused(cast, "Cast to FLOAT16 is not supported");
        OnnxBuilder dropout = new OnnxBuilder().opset(13).input("x", 2).output("y", 2).output("mask", 2);
        dropout.node("Dropout", "d", in("x"), "y", "mask");
        refused(dropout, "the mask output of Dropout is not supported");
    }

    @Test
    public void undefinedValuesAreRefused() {
        OnnxBuilder missing = new OnnxBuilder().input("obs", "batch", 3).output("y", "batch", 2).initializer("b", new int[] {2}, 0, 0);
        missing.node("Gemm", "fc", in("obs", "w_missing", "b"), "y").attr("transB", 1L);
        refused(missing, "node 'fc' (Gemm): input 'w_missing' is not defined by an initializer, a graph input or an earlier node");
        OnnxBuilder order = new OnnxBuilder().input("x", 2).output("y", 2);
        order.node("Relu", "second", in("t"), "y");
        order.node("Tanh", "first", in("x"), "t");
        refused(order, "node 'second' (Relu): input 't' is not defined");
        OnnxBuilder noOutput = new OnnxBuilder().input("x", 2).output("nowhere", 2);
        noOutput.node("Relu", "r", in("x"), "y");
        refused(noOutput, "graph output 'nowhere' is not computed by any node");
        OnnxBuilder twice = new OnnxBuilder().input("x", 2).output("y", 2);
        twice.node("Relu", "r1", in("x"), "y");
        twice.node("Tanh", "r2", in("x"), "y");
        refused(twice, "value 'y' is defined more than once");
        refused(new OnnxBuilder().input("x", 2), "the graph has no outputs");
    }

    @Test
    public void shapesThatDoNotLineUpAreRefusedAtLoad() {
        OnnxBuilder gemm = new OnnxBuilder().input("obs", "batch", 3).output("y").initializer("w", new int[] {2, 4}, new float[8]);
        gemm.node("Gemm", "fc", in("obs", "w"), "y").attr("transB", 1L);
        refused(gemm, "node 'fc' (Gemm): inner dimensions differ: A is [1, 3], B is [2, 4] (transposed)");
        OnnxBuilder add = new OnnxBuilder().input("x", "batch", 3).output("y").initializer("b", new int[] {2}, 1, 2);
        add.node("Add", "add", in("x", "b"), "y");
        refused(add, "shapes [1, 3] and [2] cannot be broadcast together");
        OnnxBuilder declared = new OnnxBuilder().input("x", "batch", 3).output("y", "batch", 4);
        declared.node("Relu", "r", in("x"), "y");
        refused(declared, "graph output 'y' is declared with shape [batch, 4] but the graph computes [1, 3]");
        OnnxBuilder reshape = new OnnxBuilder().input("x", "batch", 3).output("y").longInitializer("s", new int[] {2}, 2, 2);
        reshape.node("Reshape", "rs", in("x", "s"), "y");
        refused(reshape, "cannot reshape [1, 3] (3 elements) to [2, 2]");
    }

    @Test
    public void shapesMustBeKnownWhenTheModelLoads() {
        // A Reshape whose target shape comes from the observation values themselves.
        OnnxBuilder b = new OnnxBuilder().input("x", 2).output("y");
        b.node("Cast", "c", in("x"), "s").attr("to", 7L);
        b.node("Reshape", "rs", in("x", "s"), "y");
        refused(b, "input 's' must be a constant (known when the model loads), but it depends on the graph's inputs");
        OnnxBuilder dbl = new OnnxBuilder().input("x", 2).output("y");
        dbl.node("Cast", "c", in("x"), "y").attr("to", 11L);
        refused(dbl, "DOUBLE tensors computed from the graph's inputs are not supported");
    }

    @Test
    public void unsupportedInputsAreRefused() {
        OnnxBuilder ints = new OnnxBuilder().typedInput("ids", OnnxBuilder.INT64, "batch", 3).output("y");
        ints.node("Identity", "i", in("ids"), "y");
        refused(ints, "graph input 'ids' has element type INT64; only FLOAT inputs are supported");
        OnnxBuilder dynamic = new OnnxBuilder().input("seq", "batch", "time", 3).output("y");
        dynamic.node("Identity", "i", in("seq"), "y");
        refused(dynamic, "graph input 'seq' of shape [batch, time, 3] has a dynamic dimension at position 1");
        OnnxBuilder shapeless = new OnnxBuilder().inputWithoutShape("x").output("y");
        shapeless.node("Identity", "i", in("x"), "y");
        refused(shapeless, "graph input 'x' declares no shape");
    }

    @Test
    public void unsupportedTensorStorageIsRefused() {
        ProtoWriter external = new ProtoWriter().varint(1, 2).varint(2, OnnxBuilder.FLOAT).string(8, "w")
                .message(13, new ProtoWriter().string(1, "location").string(2, "weights.bin")).varint(14, 1);
        refused(OnnxModelTest.mlp().initializer(external), "tensor 'w' keeps its data in an external file");
        ProtoWriter strings = new ProtoWriter().varint(1, 1).varint(2, 8).bytes(6, new byte[] {65}).string(8, "s");
        refused(OnnxModelTest.mlp().initializer(strings), "string tensors are not supported");
        ProtoWriter half = new ProtoWriter().varint(1, 1).varint(2, 10).packedVarints(5, 15360).string(8, "h");
        refused(OnnxModelTest.mlp().initializer(half), "tensor 'h' has element type FLOAT16, which is not supported");
        ProtoWriter both = new ProtoWriter().varint(1, 1).varint(2, OnnxBuilder.FLOAT).bytes(9, new byte[4]).packedFloats(4, 1f)
                .string(8, "b");
        refused(OnnxModelTest.mlp().initializer(both), "tensor 'b' holds both raw and typed data");
    }

    @Test
    public void modelHeadersAreChecked() {
        refused(new byte[0], "the ONNX data is empty");
        OnnxBuilder old = OnnxModelTest.mlp();
        old.opset(5);
        refused(old, "ONNX opset 5 is not supported (supported: 7 to 24)");
        OnnxBuilder future = OnnxModelTest.mlp();
        future.opset(99);
        refused(future, "ONNX opset 99 is not supported");
        OnnxBuilder otherDomain = OnnxModelTest.mlp();
        otherDomain.opsetDomain = "ai.onnx.ml";
        refused(otherDomain, "the model does not import the default ONNX operator set");
        OnnxBuilder ir = OnnxModelTest.mlp();
        ir.irVersion = 2;
        refused(ir, "unsupported ONNX IR version 2");
        refused(new ProtoWriter().varint(1, 8).string(2, "pytorch").toByteArray(), "the ONNX model holds no graph");
        refused(new ProtoWriter().string(2, "pytorch").toByteArray(), "not an ONNX model");
    }

    @Test
    public void dataThatStartsWithNoModelFieldIsRefusedByItsFirstBytes() {
        String zeros = "not an ONNX model: it starts with the bytes 00 00 00 00 00, which are not the key of any ONNX"
                + " ModelProto field (an exported model starts with 08, the key of ir_version)";
        assertEquals(zeros, refused(new byte[64], zeros));
        refused(new ProtoWriter().varint(9, 1).toByteArray(), "starts with the bytes 48 01"); // no field 9
        refused(new ProtoWriter().string(1, "x").toByteArray(), "starts with the bytes 0a 01 78"); // ir_version is no string
        refused(new byte[] {(byte) 0xa2}, "starts with the bytes a2,"); // a key cut short
        refused(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 1}, "starts with the bytes 80 80");
        // any ModelProto field may come first: these pass the first check and fail later, for lack of a graph
        for (int field : new int[] {1, 5}) {
            refused(new ProtoWriter().varint(field, 8).varint(1, 8).toByteArray(), "holds no graph");
        }
        for (int field : new int[] {4, 6, 8, 14, 20, 25, 26}) {
            refused(new ProtoWriter().bytes(field, new byte[0]).varint(1, 8).toByteArray(), "holds no graph");
        }
        refused(new byte[] {(byte) 0x88, 0x00, 0x08}, "holds no graph"); // ir_version's key, in two bytes
    }

    @Test
    public void aGigabyteFileOfZerosIsRefusedWithoutReadingIt() throws Exception {
        Path file = Files.createTempFile("zeros", ".onnx");
        try {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(OnnxModel.MAX_FILE_BYTES); // sparse: no disk, no time
            }
            String message = refused(() -> OnnxModel.load(file), "not an ONNX model: it starts with the bytes 00");
            assertTrue(message, message.startsWith(file + ": "));
            refused(() -> OnnxModel.load(Files.newInputStream(file)), "not an ONNX model: it starts with the bytes 00");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    public void anUnsupportedModelNeverLoadsHalfway() throws Exception {
        // The same file must load once the problem is gone: the refusals above are about the problem only.
        OnnxModelTest.mlp().load();
        try {
            OnnxModel.load(new byte[] {0x08});
            fail("a one-byte file loaded");
        } catch (OnnxFormatException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("truncated"));
        }
    }
}
