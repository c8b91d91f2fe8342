package com.alpyperl.policy;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.Test;

/** Loading and evaluating handcrafted models whose outputs are known. */
public class OnnxModelTest {

    // A 3-input, 2-hidden-unit, 2-output MLP like torch exports it: Gemm(transB=1) + Relu + Gemm.
    static final float[] W1 = {1f, -2f, 0.5f, 0.25f, 1f, -1f}; // [2 hidden, 3 inputs]
    static final float[] B1 = {0.1f, -0.2f};
    static final float[] W2 = {2f, -1f, 0.5f, 3f}; // [2 outputs, 2 hidden]
    static final float[] B2 = {0f, 1f};

    static OnnxBuilder mlp() {
        OnnxBuilder b = new OnnxBuilder().input("obs", "batch", 3).output("logits", "batch", 2)
                .initializer("w1", new int[] {2, 3}, W1).typedInitializer("b1", new int[] {2}, B1)
                .initializer("w2", new int[] {2, 2}, W2).initializer("b2", new int[] {2}, B2)
                .metadata("alpyperl", "{\"format\": 1}").metadata("note", "tiny");
        b.node("Gemm", "fc1", new String[] {"obs", "w1", "b1"}, "h").attr("transB", 1L);
        b.node("Relu", "relu1", new String[] {"h"}, "a");
        b.node("Gemm", "fc2", new String[] {"a", "w2", "b2"}, "logits").attr("transB", 1L).attr("alpha", 1f).attr("beta", 1f);
        return b;
    }

    /** The same MLP computed directly, in double precision. */
    static float[] mlpReference(float[] x) {
        double[] h = new double[2];
        for (int j = 0; j < 2; j++) {
            double s = B1[j];
            for (int i = 0; i < 3; i++) {
                s += (double) W1[j * 3 + i] * x[i];
            }
            h[j] = Math.max(0, s);
        }
        float[] y = new float[2];
        for (int j = 0; j < 2; j++) {
            double s = B2[j];
            for (int i = 0; i < 2; i++) {
                s += W2[j * 2 + i] * h[i];
            }
            y[j] = (float) s;
        }
        return y;
    }

    @Test
    public void tinyMlpGivesKnownValues() throws Exception {
        OnnxModel model = mlp().load();
        // x = [3, 1, 0]: h = relu([3 - 2 + 0 + 0.1, 0.75 + 1 - 0 - 0.2]) = [1.1, 1.55]
        //   y = [2 * 1.1 - 1.55 + 0, 0.5 * 1.1 + 3 * 1.55 + 1] = [0.65, 6.2]
        assertArrayEquals(new float[] {0.65f, 6.2f}, model.run(new float[] {3f, 1f, 0f}), 1e-6f);
        // x = [1, 2, 0.5]: h = relu([1 - 4 + 0.25 + 0.1, 0.25 + 2 - 0.5 - 0.2]) = [0, 1.55]
        //   y = [-1.55, 3 * 1.55 + 1] = [-1.55, 5.65]
        assertArrayEquals(new float[] {-1.55f, 5.65f}, model.run(new float[] {1f, 2f, 0.5f}), 1e-6f);
        Random random = new Random(3);
        for (int t = 0; t < 200; t++) {
            float[] x = {(float) random.nextGaussian(), (float) random.nextGaussian(), (float) random.nextGaussian()};
            assertArrayEquals(mlpReference(x), model.run(x), 1e-5f);
        }
    }

    @Test
    public void describesInputsOutputsAndMetadata() throws Exception {
        OnnxModel model = mlp().load();
        assertEquals(Arrays.asList("obs"), model.inputNames());
        assertEquals(Arrays.asList("logits"), model.outputNames());
        assertArrayEquals(new int[] {-1, 3}, model.inputShape("obs"));
        assertArrayEquals(new int[] {-1, 2}, model.outputShape("logits"));
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("alpyperl", "{\"format\": 1}");
        expected.put("note", "tiny");
        assertEquals(expected, model.metadata());
        assertThrows(UnsupportedOperationException.class, () -> model.metadata().put("x", "y"));
        assertEquals(17, model.opsetVersion());
        assertEquals(8, model.irVersion());
        assertEquals("alpyperl-tests 1.0", model.producer());
        assertEquals(new java.util.TreeSet<>(Arrays.asList("Gemm", "Relu")), model.operators());
        assertTrue(model.supportsBatches());
        assertTrue(OnnxModel.supportedOperators().containsAll(Arrays.asList("Gemm", "MatMul", "Tanh", "Softmax", "Slice")));
        assertTrue(model.toString(), model.toString().contains("obs[batch, 3] -> logits[-1, 2]"));
        assertThrows(IllegalArgumentException.class, () -> model.inputShape("nope"));
    }

    @Test
    public void batchesGiveTheSameRowsAsSingleCalls() throws Exception {
        OnnxModel model = mlp().load();
        Random random = new Random(5);
        for (int batch : new int[] {2, 3, 17, 64}) {
            float[] x = new float[3 * batch];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] y = model.run(x, batch);
            assertEquals(2 * batch, y.length);
            for (int r = 0; r < batch; r++) {
                float[] row = model.run(Arrays.copyOfRange(x, 3 * r, 3 * r + 3));
                assertArrayEquals(row, Arrays.copyOfRange(y, 2 * r, 2 * r + 2), 0f);
            }
            Map<String, float[]> in = new HashMap<>();
            in.put("obs", x);
            assertArrayEquals(y, model.run(in, batch).get("logits"), 0f);
        }
    }

    @Test
    public void loadsFromPathStreamAndBytesAlike() throws Exception {
        byte[] bytes = mlp().build();
        Path file = Files.createTempFile("policy", ".onnx");
        try {
            Files.write(file, bytes);
            float[] x = {0.3f, -1f, 2f};
            float[] expected = OnnxModel.load(bytes).run(x);
            assertArrayEquals(expected, OnnxModel.load(file).run(x), 0f);
            assertArrayEquals(expected, OnnxModel.load(new ByteArrayInputStream(bytes)).run(x), 0f);
            Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
            OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxModel.load(file));
            assertTrue(e.getMessage(), e.getMessage().startsWith(file.toString() + ": "));
        } finally {
            Files.delete(file);
        }
    }

    @Test
    public void wrongInputsAreRefusedWithTheExpectedSize() throws Exception {
        OnnxModel model = mlp().load();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.run(new float[4]));
        assertTrue(e.getMessage(), e.getMessage().contains("needs 3 values for batch size 1, got 4"));
        assertThrows(IllegalArgumentException.class, () -> model.run(null));
        assertThrows(IllegalArgumentException.class, () -> model.run(new float[6], 0));
        assertThrows(IllegalArgumentException.class, () -> model.run(new float[6], 3));
        assertThrows(IllegalArgumentException.class, () -> model.run(new HashMap<>(), 1));
    }

    @Test
    public void modelsWithSeveralInputsOrOutputsNeedTheMapForm() throws Exception {
        OnnxBuilder b = new OnnxBuilder().input("a", "n", 2).input("b", "n", 2).output("sum", "n", 2).output("product", "n", 2);
        b.node("Add", "add", new String[] {"a", "b"}, "sum");
        b.node("Mul", "mul", new String[] {"a", "b"}, "product");
        OnnxModel model = b.load();
        assertThrows(IllegalStateException.class, () -> model.run(new float[2]));
        Map<String, float[]> in = new HashMap<>();
        in.put("a", new float[] {1, 2, 3, 4});
        in.put("b", new float[] {10, 20, 30, 40});
        Map<String, float[]> out = model.run(in, 2);
        assertEquals(Arrays.asList("sum", "product"), new ArrayList<>(out.keySet()));
        assertArrayEquals(new float[] {11, 22, 33, 44}, out.get("sum"), 0f);
        assertArrayEquals(new float[] {10, 40, 90, 160}, out.get("product"), 0f);
    }

    @Test
    public void fixedShapeModelsEvaluateOneObservationAtATime() throws Exception {
        OnnxBuilder b = new OnnxBuilder().input("obs", 1, 3).output("y", 1, 3);
        b.node("Tanh", "t", new String[] {"obs"}, "y");
        OnnxModel model = b.load();
        assertFalse(model.supportsBatches());
        assertArrayEquals(new int[] {1, 3}, model.inputShape("obs"));
        assertArrayEquals(new float[] {0f, (float) Math.tanh(1), (float) Math.tanh(-2)}, model.run(new float[] {0, 1, -2}), 4e-7f);
        assertThrows(IllegalArgumentException.class, () -> model.run(new float[6], 2));
    }

    @Test
    public void graphsThatOnlyLineUpForBatchOneSayWhy() throws Exception {
        // Like RLlib's free_log_std export: a constant [1, 2] concatenated to the batch's rows.
        OnnxBuilder b = new OnnxBuilder().input("obs", "batch", 2).output("out", 1, 4)
                .initializer("log_std", new int[] {1, 2}, -0.5f, 0.25f);
        b.node("Concat", "/pi/Concat", new String[] {"obs", "log_std"}, "out").attr("axis", 1L);
        OnnxModel model = b.load();
        assertArrayEquals(new float[] {3f, 4f, -0.5f, 0.25f}, model.run(new float[] {3, 4}), 0f);
        assertFalse(model.supportsBatches());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.run(new float[4], 2));
        assertTrue(e.getMessage(), e.getMessage().contains("node '/pi/Concat' (Concat)"));
        assertTrue(e.getMessage(), e.getMessage().contains("evaluates only batch size 1"));
    }

    @Test
    public void exporterShapeArithmeticIsFoldedForEveryBatchSize() throws Exception {
        // x.reshape(x.shape[0], -1) as torch exports it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
        OnnxBuilder b = new OnnxBuilder().opset(13).input("obs", "batch", 2, 3).output("flat", "batch", 6)
                .longInitializer("zero", new int[0], 0).longInitializer("axes", new int[] {1}, 0)
                .longInitializer("minus_one", new int[] {1}, -1);
        b.node("Shape", "shape", new String[] {"obs"}, "s");
        b.node("Gather", "gather", new String[] {"s", "zero"}, "n").attr("axis", 0L);
        b.node("Unsqueeze", "unsq", new String[] {"n", "axes"}, "n1");
        b.node("Concat", "cat", new String[] {"n1", "minus_one"}, "target").attr("axis", 0L);
        b.node("Reshape", "reshape", new String[] {"obs", "target"}, "flat");
        OnnxModel model = b.load();
        float[] x = new float[18];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        assertArrayEquals(x, model.run(x, 3), 0f);
        assertArrayEquals(new int[] {-1, 6}, model.outputShape("flat"));
    }

    @Test
    public void initializersListedAsInputsStayConstants() throws Exception {
        // IR version 3 files list every initializer among the graph inputs.
        OnnxBuilder b = new OnnxBuilder().input("x", "n", 2).input("w", 2).output("y", "n", 2)
                .initializer("w", new int[] {2}, 2f, 3f);
        b.irVersion = 3;
        b.opset(9);
        b.node("Mul", "mul", new String[] {"x", "w"}, "y");
        OnnxModel model = b.load();
        assertEquals(Arrays.asList("x"), model.inputNames());
        assertArrayEquals(new float[] {2f, -3f}, model.run(new float[] {1f, -1f}), 0f);
    }

    @Test
    public void concurrentCallsFromManyThreadsGiveEachTheirOwnAnswer() throws Exception {
        OnnxModel model = mlp().load();
        int threads = 8;
        int calls = 2000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int seed = t;
                results.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    int checked = 0;
                    for (int i = 0; i < calls; i++) {
                        float[] x = {(float) random.nextGaussian(), (float) random.nextGaussian(), (float) random.nextGaussian()};
                        int batch = 1 + i % 3;
                        float[] y = batch == 1 ? model.run(x) : model.run(repeat(x, batch), batch);
                        float[] expected = mlpReference(x);
                        for (int r = 0; r < batch; r++) {
                            assertArrayEquals(expected, Arrays.copyOfRange(y, 2 * r, 2 * r + 2), 1e-5f);
                        }
                        checked++;
                    }
                    return checked;
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(calls, (int) f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[] repeat(float[] x, int times) {
        float[] out = new float[x.length * times];
        for (int t = 0; t < times; t++) {
            System.arraycopy(x, 0, out, t * x.length, x.length);
        }
        return out;
    }

    @Test
    public void fusedActivationsMatchSeparateNodes() throws Exception {
        // Gemm followed by Tanh is fused into one kernel unless the Gemm result is also read elsewhere.
        float[] w = {0.5f, -1f, 2f, 0.25f, 1.5f, -0.75f};
        OnnxBuilder fused = new OnnxBuilder().input("x", "n", 2).output("y", "n", 3).initializer("w", new int[] {2, 3}, w);
        fused.node("Gemm", "g", new String[] {"x", "w"}, "h");
        fused.node("Tanh", "t", new String[] {"h"}, "y");
        OnnxBuilder separate = new OnnxBuilder().input("x", "n", 2).output("y", "n", 3).output("h", "n", 3)
                .initializer("w", new int[] {2, 3}, w);
        separate.node("Gemm", "g", new String[] {"x", "w"}, "h");
        separate.node("Tanh", "t", new String[] {"h"}, "y");
        float[] x = {0.7f, -1.3f, 2f, 0.1f};
        Map<String, float[]> in = new HashMap<>();
        in.put("x", x);
        Map<String, float[]> both = separate.load().run(in, 2);
        assertArrayEquals(both.get("y"), fused.load().run(x, 2), 0f);
        // h is the plain product, not tanh of it.
        assertEquals(0.7f * 0.5f + -1.3f * 0.25f, both.get("h")[0], 1e-6f);
        assertEquals((float) Math.tanh(0.7 * 0.5 - 1.3 * 0.25), both.get("y")[0], 4e-7f);

        // The activation reads a view (Reshape) of the product while the product itself is an output:
        // the product must stay as it is.
        OnnxBuilder view = new OnnxBuilder().input("x", "n", 2).output("y", "n", 3).output("h", "n", 3)
                .initializer("w", new int[] {2, 3}, w).longInitializer("shape", new int[] {2}, -1, 3);
        view.node("Gemm", "g", new String[] {"x", "w"}, "h");
        view.node("Reshape", "r", new String[] {"h", "shape"}, "h2");
        view.node("Tanh", "t", new String[] {"h2"}, "y");
        Map<String, float[]> viewed = view.load().run(in, 2);
        assertArrayEquals(both.get("h"), viewed.get("h"), 0f);
        assertArrayEquals(both.get("y"), viewed.get("y"), 0f);
    }

    @Test
    public void fastTanhStaysWithinFourTenthsOfAMillionth() {
        float[] x = new float[400001];
        for (int i = 0; i < x.length; i++) {
            x[i] = -12f + 24f * i / (x.length - 1);
        }
        float[] y = new float[x.length];
        Kernels.tanh(x, y, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals("tanh(" + x[i] + ")", Math.tanh(x[i]), y[i], 4e-7);
            assertTrue(Math.abs(y[i]) <= 1f);
        }
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-30f, Float.MIN_VALUE};
        float[] out = new float[special.length];
        Kernels.tanh(special, out, special.length);
        assertTrue(Float.isNaN(out[0]));
        assertEquals(1f, out[1], 4e-7f); // saturates at 0.9999999, within the stated error
        assertEquals(-1f, out[2], 4e-7f);
        assertEquals(0f, out[3], 0f);
        assertEquals(1e-30f, out[5], 1e-36f);
        assertEquals(Float.MIN_VALUE, out[6], 0f);
    }

    @Test
    public void erfIsAccurate() {
        // Reference values of erf to 16 digits.
        double[][] known = {{0, 0}, {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
            {2, 0.9953222650189527}, {2.5, 0.9995930479825550}, {3, 0.9999779095030014}, {-1.5, -0.9661051464753108},
            {4.5, 0.9999999998033839}, {7, 1.0}};
        for (double[] k : known) {
            assertEquals("erf(" + k[0] + ")", k[1], Kernels.erf(k[0]), 1e-13);
        }
    }
}
