package com.alpyperl.policy;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.Test;

/**
 * Each supported operator on small tensors with known results. Every graph is evaluated twice:
 * with {@code x} as a graph input (run-time kernels) and with {@code x} as an initializer (the
 * node is then folded at load time); both must give the expected values and shape.
 */
public class OperatorsTest {

    private static final float[] X23 = {1, 2, 3, 4, 5, 6}; // [2, 3]

    /** The output "y" and its shape for graph {@code nodes} applied to x. */
    private static Result eval(int opset, int[] shape, float[] x, Consumer<OnnxBuilder> nodes) throws Exception {
        Object[] dims = new Object[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        OnnxBuilder runtime = new OnnxBuilder().opset(opset).input("x", dims).output("y");
        nodes.accept(runtime);
        OnnxModel a = runtime.load();
        Map<String, float[]> in = new HashMap<>();
        in.put("x", x);
        float[] y = a.run(in, 1).get("y");

        OnnxBuilder folded = new OnnxBuilder().opset(opset).initializer("x", shape, x).output("y");
        nodes.accept(folded);
        OnnxModel b = folded.load();
        float[] z = b.run(new HashMap<>(), 1).get("y");
        assertArrayEquals("run-time and folded results differ", y, z, 0f);
        assertArrayEquals(a.outputShape("y"), b.outputShape("y"));
        return new Result(y, a.outputShape("y"));
    }

    private static Result eval(int[] shape, float[] x, Consumer<OnnxBuilder> nodes) throws Exception {
        return eval(17, shape, x, nodes);
    }

    private static final class Result {
        final float[] values;
        final int[] shape;

        Result(float[] values, int[] shape) {
            this.values = values;
            this.shape = shape;
        }

        Result is(int[] expectedShape, float... expected) {
            assertArrayEquals("shape", expectedShape, shape);
            assertArrayEquals(expected, values, 1e-6f);
            return this;
        }
    }

    private static int[] s(int... dims) {
        return dims;
    }

    private static String[] in(String... names) {
        return names;
    }

    // ------------------------------------------------------------------ element-wise

    @Test
    public void activations() throws Exception {
        float[] x = {-2f, -0.5f, 0f, 0.5f, 3f};
        int[] shape = {5};
        eval(shape, x, b -> b.node("Relu", "n", in("x"), "y")).is(shape, 0, 0, 0, 0.5f, 3);
        eval(shape, x, b -> b.node("LeakyRelu", "n", in("x"), "y").attr("alpha", 0.1f)).is(shape, -0.2f, -0.05f, 0, 0.5f, 3);
        eval(shape, x, b -> b.node("Elu", "n", in("x"), "y").attr("alpha", 2f)).is(shape,
                (float) (2 * Math.expm1(-2)), (float) (2 * Math.expm1(-0.5)), 0, 0.5f, 3);
        float[] sig = new float[5];
        float[] softplus = new float[5];
        float[] exp = new float[5];
        float[] softsign = new float[5];
        float[] hardSigmoid = new float[5];
        float[] hardSwish = new float[5];
        float[] selu = new float[5];
        float[] gelu = new float[5];
        for (int i = 0; i < 5; i++) {
            double v = x[i];
            sig[i] = (float) (1 / (1 + Math.exp(-v)));
            softplus[i] = (float) Math.log(1 + Math.exp(v));
            exp[i] = (float) Math.exp(v);
            softsign[i] = (float) (v / (1 + Math.abs(v)));
            hardSigmoid[i] = (float) Math.max(0, Math.min(1, 0.2 * v + 0.5));
            hardSwish[i] = (float) (v * Math.max(0, Math.min(1, v / 6 + 0.5)));
            selu[i] = (float) (1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v)));
            gelu[i] = (float) (0.5 * v * (1 + Kernels.erf(v / Math.sqrt(2))));
        }
        eval(shape, x, b -> b.node("Sigmoid", "n", in("x"), "y")).is(shape, sig);
        eval(shape, x, b -> b.node("Softplus", "n", in("x"), "y")).is(shape, softplus);
        eval(shape, x, b -> b.node("Exp", "n", in("x"), "y")).is(shape, exp);
        eval(shape, x, b -> b.node("Softsign", "n", in("x"), "y")).is(shape, softsign);
        eval(shape, x, b -> b.node("HardSigmoid", "n", in("x"), "y")).is(shape, hardSigmoid);
        eval(shape, x, b -> b.node("HardSwish", "n", in("x"), "y")).is(shape, hardSwish);
        eval(shape, x, b -> b.node("Selu", "n", in("x"), "y")).is(shape, selu);
        eval(20, shape, x, b -> b.node("Gelu", "n", in("x"), "y")).is(shape, gelu);
        eval(shape, x, b -> b.node("Tanh", "n", in("x"), "y")).is(shape, (float) Math.tanh(-2), (float) Math.tanh(-0.5), 0,
                (float) Math.tanh(0.5), (float) Math.tanh(3));
    }

    @Test
    public void unaryMath() throws Exception {
        float[] x = {-2.5f, -1f, 0.25f, 4f};
        int[] shape = {2, 2};
        eval(shape, x, b -> b.node("Abs", "n", in("x"), "y")).is(shape, 2.5f, 1, 0.25f, 4);
        eval(shape, x, b -> b.node("Neg", "n", in("x"), "y")).is(shape, 2.5f, 1, -0.25f, -4);
        eval(shape, x, b -> b.node("Floor", "n", in("x"), "y")).is(shape, -3, -1, 0, 4);
        eval(shape, x, b -> b.node("Ceil", "n", in("x"), "y")).is(shape, -2, -1, 1, 4);
        eval(shape, x, b -> b.node("Reciprocal", "n", in("x"), "y")).is(shape, -0.4f, -1, 4, 0.25f);
        float[] pos = {0.25f, 1f, 4f, 9f};
        eval(shape, pos, b -> b.node("Sqrt", "n", in("x"), "y")).is(shape, 0.5f, 1, 2, 3);
        eval(shape, pos, b -> b.node("Log", "n", in("x"), "y")).is(shape, (float) Math.log(0.25), 0, (float) Math.log(4),
                (float) Math.log(9));
        eval(shape, x, b -> b.node("Erf", "n", in("x"), "y")).is(shape, (float) Kernels.erf(-2.5), (float) Kernels.erf(-1),
                (float) Kernels.erf(0.25), (float) Kernels.erf(4));
        eval(shape, x, b -> b.node("Identity", "n", in("x"), "y")).is(shape, x);
        eval(shape, x, b -> b.node("Dropout", "n", in("x"), "y").attr("ratio", 0.5f)).is(shape, x);
    }

    @Test
    public void broadcastingArithmetic() throws Exception {
        eval(s(2, 3), X23, b -> b.initializer("b", s(3), 10, 20, 30).node("Add", "n", in("x", "b"), "y"))
                .is(s(2, 3), 11, 22, 33, 14, 25, 36);
        eval(s(2, 3), X23, b -> b.initializer("b", s(2, 1), 1, -1).node("Mul", "n", in("x", "b"), "y"))
                .is(s(2, 3), 1, 2, 3, -4, -5, -6);
        eval(s(2, 3), X23, b -> b.initializer("b", s(), 2).node("Sub", "n", in("b", "x"), "y"))
                .is(s(2, 3), 1, 0, -1, -2, -3, -4);
        eval(s(2, 3), X23, b -> b.initializer("b", s(1, 3), 2, 4, 8).node("Div", "n", in("x", "b"), "y"))
                .is(s(2, 3), 0.5f, 0.5f, 0.375f, 2, 1.25f, 0.75f);
        eval(s(2, 3), X23, b -> b.longInitializer("e", s(), 2).node("Pow", "n", in("x", "e"), "y"))
                .is(s(2, 3), 1, 4, 9, 16, 25, 36);
        eval(s(2, 3), X23, b -> b.initializer("e", s(), 0.5f).node("Pow", "n", in("x", "e"), "y"))
                .is(s(2, 3), 1, (float) Math.sqrt(2), (float) Math.sqrt(3), 2, (float) Math.sqrt(5), (float) Math.sqrt(6));
        // [3] against [2, 1] gives [2, 3].
        eval(s(3), new float[] {1, 2, 3}, b -> b.initializer("b", s(2, 1), 10, 20).node("Add", "n", in("x", "b"), "y"))
                .is(s(2, 3), 11, 12, 13, 21, 22, 23);
    }

    @Test
    public void variadicMaxMinSum() throws Exception {
        eval(s(3), new float[] {1, 5, 3}, b -> b.initializer("a", s(3), 2, 2, 2).initializer("c", s(1), 4)
                .node("Max", "n", in("x", "a", "c"), "y")).is(s(3), 4, 5, 4);
        eval(s(3), new float[] {1, 5, 3}, b -> b.initializer("a", s(3), 2, 2, 2).node("Min", "n", in("x", "a"), "y"))
                .is(s(3), 1, 2, 2);
        eval(s(3), new float[] {1, 5, 3}, b -> b.initializer("a", s(3), 2, 2, 2).initializer("c", s(), 10)
                .node("Sum", "n", in("x", "a", "c"), "y")).is(s(3), 13, 17, 15);
        eval(s(3), new float[] {1, 5, 3}, b -> b.node("Max", "n", in("x"), "y")).is(s(3), 1, 5, 3);
    }

    @Test
    public void clipInBothOpsetStyles() throws Exception {
        float[] x = {-3, -1, 0, 1, 3};
        eval(9, s(5), x, b -> b.node("Clip", "n", in("x"), "y").attr("min", -2f).attr("max", 1.5f)).is(s(5), -2, -1, 0, 1, 1.5f);
        eval(13, s(5), x, b -> b.initializer("lo", s(), -2).initializer("hi", s(), 1.5f)
                .node("Clip", "n", in("x", "lo", "hi"), "y")).is(s(5), -2, -1, 0, 1, 1.5f);
        eval(13, s(5), x, b -> b.initializer("hi", s(), 0.5f).node("Clip", "n", in("x", "", "hi"), "y"))
                .is(s(5), -3, -1, 0, 0.5f, 0.5f);
    }

    @Test
    public void comparisonsAndWhere() throws Exception {
        float[] x = {1, 2, 3, 4};
        eval(s(4), x, b -> b.initializer("t", s(), 2.5f).node("Less", "n", in("x", "t"), "c")
                .node("Cast", "cast", in("c"), "y").attr("to", 1L)).is(s(4), 1, 1, 0, 0);
        eval(s(4), x, b -> b.initializer("t", s(), 2f).initializer("big", s(4), 9, 9, 9, 9)
                .node("Equal", "n", in("x", "t"), "c").node("Not", "not", in("c"), "nc")
                .node("Where", "w", in("nc", "x", "big"), "y")).is(s(4), 1, 9, 3, 4);
        eval(s(4), x, b -> b.initializer("t", s(), 3f).node("GreaterOrEqual", "n", in("x", "t"), "c")
                .node("Where", "w", in("c", "x", "t"), "y")).is(s(4), 3, 3, 3, 4);
    }

    @Test
    public void castsBetweenFloatsAndIntegers() throws Exception {
        float[] x = {-2.7f, -0.5f, 0.5f, 2.7f};
        eval(s(4), x, b -> b.node("Cast", "i", in("x"), "i").attr("to", 7L).node("Cast", "f", in("i"), "y").attr("to", 1L))
                .is(s(4), -2, 0, 0, 2);
        eval(s(4), x, b -> b.node("Cast", "b", in("x"), "c").attr("to", 9L).node("Cast", "f", in("c"), "y").attr("to", 1L))
                .is(s(4), 1, 1, 1, 1);
        eval(s(4), x, b -> b.node("Cast", "same", in("x"), "y").attr("to", 1L)).is(s(4), x);
        // A DOUBLE initializer cast to float (folded at load time).
        ProtoWriter d = new ProtoWriter().varint(1, 2).varint(2, OnnxBuilder.DOUBLE).packedDoubles(10, 0.25, -8).string(8, "d");
        eval(s(2), new float[] {1, 1}, b -> b.initializer(d).node("Cast", "c", in("d"), "df").attr("to", 1L)
                .node("Mul", "m", in("x", "df"), "y")).is(s(2), 0.25f, -8f);
    }

    // ------------------------------------------------------------------ matrix products and normalisation

    @Test
    public void gemmWithEveryAttribute() throws Exception {
        // A^T (A stored [3, 2]) times B [3, 2], alpha 2, plus beta 0.5 * C [2, 1].
        float[] a = {1, 4, 2, 5, 3, 6}; // A^T = [[1, 2, 3], [4, 5, 6]]
        eval(s(3, 2), a, b -> b.initializer("B", s(3, 2), 1, 0, 0, 1, 1, 1).initializer("C", s(2, 1), 10, 20)
                .node("Gemm", "n", in("x", "B", "C"), "y").attr("transA", 1L).attr("alpha", 2f).attr("beta", 0.5f))
                // A^T B = [[1 + 3, 2 + 3], [4 + 6, 5 + 6]] = [[4, 5], [10, 11]]
                .is(s(2, 2), 2 * 4 + 5, 2 * 5 + 5, 2 * 10 + 10, 2 * 11 + 10);
        // B transposed and wide (16 outputs: the row layout), no C.
        float[] w = new float[16 * 3];
        float[] expected = new float[2 * 16];
        for (int j = 0; j < 16; j++) {
            for (int k = 0; k < 3; k++) {
                w[j * 3 + k] = j - k;
            }
            for (int r = 0; r < 2; r++) {
                for (int k = 0; k < 3; k++) {
                    expected[r * 16 + j] += X23[r * 3 + k] * (j - k);
                }
            }
        }
        eval(s(2, 3), X23, b -> b.initializer("W", s(16, 3), w).node("Gemm", "n", in("x", "W"), "y").attr("transB", 1L))
                .is(s(2, 16), expected);
    }

    @Test
    public void gemmWithARunTimeBAndC() throws Exception {
        OnnxBuilder b = new OnnxBuilder().input("a", 1, 2).input("w", 2, 3).input("c", 3).output("y", 1, 3);
        b.node("Gemm", "g", in("a", "w", "c"), "y").attr("transB", 0L);
        Map<String, float[]> inputs = new HashMap<>();
        inputs.put("a", new float[] {1, 2});
        inputs.put("w", new float[] {1, 2, 3, 4, 5, 6});
        inputs.put("c", new float[] {100, 200, 300});
        assertArrayEquals(new float[] {109, 212, 315}, b.load().run(inputs, 1).get("y"), 0f);
        OnnxBuilder t = new OnnxBuilder().input("a", 1, 2).input("w", 3, 2).output("y", 1, 3);
        t.node("Gemm", "g", in("a", "w"), "y").attr("transB", 1L);
        inputs.remove("c");
        inputs.put("w", new float[] {1, 4, 2, 5, 3, 6});
        assertArrayEquals(new float[] {9, 12, 15}, t.load().run(inputs, 1).get("y"), 0f);
    }

    @Test
    public void matMulBroadcastsLikeNumpy() throws Exception {
        // [2, 3] x [3, 2]
        eval(s(2, 3), X23, b -> b.initializer("B", s(3, 2), 1, 0, 0, 1, 1, 1).node("MatMul", "n", in("x", "B"), "y"))
                .is(s(2, 2), 4, 5, 10, 11);
        // [1, 2, 3] x [3] (vector): the last dimension disappears.
        eval(s(1, 2, 3), X23, b -> b.initializer("v", s(3), 1, 1, 1).node("MatMul", "n", in("x", "v"), "y"))
                .is(s(1, 2), 6, 15);
        // [3] x [3, 2]
        eval(s(3), new float[] {1, 2, 3}, b -> b.initializer("B", s(3, 2), 1, 0, 0, 1, 1, 1).node("MatMul", "n", in("x", "B"), "y"))
                .is(s(2), 4, 5);
        // [2, 1, 3] x [2, 3, 1]: batched.
        eval(s(2, 1, 3), X23, b -> b.initializer("B", s(2, 3, 1), 1, 1, 1, 1, 0, -1).node("MatMul", "n", in("x", "B"), "y"))
                .is(s(2, 1, 1), 6, -2);
        // [1, 2] x [2, 2, 2]: A broadcast over B's batch.
        eval(s(1, 2), new float[] {1, 2}, b -> b.initializer("B", s(2, 2, 2), 1, 0, 0, 1, 2, 0, 0, 2)
                .node("MatMul", "n", in("x", "B"), "y")).is(s(2, 1, 2), 1, 2, 2, 4);
    }

    @Test
    public void softmaxFollowsItsOpsetSemantics() throws Exception {
        float[] x = {1, 2, 3, 4};
        double e1 = Math.exp(1);
        double e2 = Math.exp(2);
        double e3 = Math.exp(3);
        double e4 = Math.exp(4);
        // opset 13: along the last axis of [2, 2].
        eval(13, s(2, 2), x, b -> b.node("Softmax", "n", in("x"), "y")).is(s(2, 2), (float) (e1 / (e1 + e2)),
                (float) (e2 / (e1 + e2)), (float) (e3 / (e3 + e4)), (float) (e4 / (e3 + e4)));
        // opset 11, axis 0: the input is coerced to [1, 4] and normalised as a whole.
        double sum = e1 + e2 + e3 + e4;
        eval(11, s(2, 2), x, b -> b.node("Softmax", "n", in("x"), "y").attr("axis", 0L)).is(s(2, 2), (float) (e1 / sum),
                (float) (e2 / sum), (float) (e3 / sum), (float) (e4 / sum));
        eval(13, s(2, 2), x, b -> b.node("LogSoftmax", "n", in("x"), "y").attr("axis", 0L)).is(s(2, 2),
                (float) (1 - Math.log(e1 + e3)), (float) (2 - Math.log(e2 + e4)), (float) (3 - Math.log(e1 + e3)),
                (float) (4 - Math.log(e2 + e4)));
    }

    @Test
    public void layerNormalization() throws Exception {
        float[] expected = new float[6];
        float[] scale = {1, 2, -1};
        float[] bias = {0, 0.5f, 1};
        for (int r = 0; r < 2; r++) {
            double mean = (X23[3 * r] + X23[3 * r + 1] + X23[3 * r + 2]) / 3.0;
            double var = 0;
            for (int k = 0; k < 3; k++) {
                var += Math.pow(X23[3 * r + k] - mean, 2) / 3;
            }
            for (int k = 0; k < 3; k++) {
                expected[3 * r + k] = (float) ((X23[3 * r + k] - mean) / Math.sqrt(var + 1e-3) * scale[k] + bias[k]);
            }
        }
        eval(s(2, 3), X23, b -> b.initializer("g", s(3), scale).initializer("b", s(3), bias)
                .node("LayerNormalization", "n", in("x", "g", "b"), "y").attr("epsilon", 1e-3f)).is(s(2, 3), expected);
    }

    @Test
    public void reductions() throws Exception {
        eval(s(2, 3), X23, b -> b.node("ReduceMean", "n", in("x"), "y").attrInts("axes", 1)).is(s(2, 1), 2, 5);
        eval(s(2, 3), X23, b -> b.node("ReduceMax", "n", in("x"), "y").attrInts("axes", 0).attr("keepdims", 0L)).is(s(3), 4, 5, 6);
        eval(s(2, 3), X23, b -> b.node("ReduceMin", "n", in("x"), "y").attr("keepdims", 0L)).is(s(), 1);
        eval(13, s(2, 3), X23, b -> b.longInitializer("axes", s(1), -1).node("ReduceSum", "n", in("x", "axes"), "y"))
                .is(s(2, 1), 6, 15);
        eval(13, s(2, 3), X23, b -> b.node("ReduceSum", "n", in("x"), "y").attr("noop_with_empty_axes", 1L)).is(s(2, 3), X23);
        eval(18, s(2, 3), X23, b -> b.longInitializer("axes", s(2), 0, 1).node("ReduceProd", "n", in("x", "axes"), "y"))
                .is(s(1, 1), 720);
    }

    @Test
    public void argMaxAndArgMin() throws Exception {
        float[] x = {3, 7, 7, 1, 0, 5};
        eval(s(2, 3), x, b -> b.node("ArgMax", "n", in("x"), "i").attr("axis", 1L)
                .node("Cast", "c", in("i"), "y").attr("to", 1L)).is(s(2, 1), 1, 2);
        eval(s(2, 3), x, b -> b.node("ArgMax", "n", in("x"), "i").attr("axis", 1L).attr("select_last_index", 1L)
                .attr("keepdims", 0L).node("Cast", "c", in("i"), "y").attr("to", 1L)).is(s(2), 2, 2);
        eval(s(2, 3), x, b -> b.node("ArgMin", "n", in("x"), "i").attr("axis", 0L)
                .node("Cast", "c", in("i"), "y").attr("to", 1L)).is(s(1, 3), 1, 1, 1);
    }

    // ------------------------------------------------------------------ shapes and data movement

    @Test
    public void reshapeFlattenSqueezeUnsqueeze() throws Exception {
        eval(s(2, 3), X23, b -> b.longInitializer("shape", s(3), 3, -1, 1).node("Reshape", "n", in("x", "shape"), "y"))
                .is(s(3, 2, 1), X23);
        eval(s(2, 3), X23, b -> b.longInitializer("shape", s(2), 0, 3).node("Reshape", "n", in("x", "shape"), "y"))
                .is(s(2, 3), X23);
        eval(s(1, 2, 3), X23, b -> b.node("Flatten", "n", in("x"), "y").attr("axis", 2L)).is(s(2, 3), X23);
        eval(s(1, 2, 3), X23, b -> b.node("Flatten", "n", in("x"), "y").attr("axis", 0L)).is(s(1, 6), X23);
        eval(11, s(1, 2, 1, 3), X23, b -> b.node("Squeeze", "n", in("x"), "y").attrInts("axes", 0, -2)).is(s(2, 3), X23);
        eval(13, s(1, 2, 1, 3), X23, b -> b.node("Squeeze", "n", in("x"), "y")).is(s(2, 3), X23);
        eval(11, s(2, 3), X23, b -> b.node("Unsqueeze", "n", in("x"), "y").attrInts("axes", 0, 3)).is(s(1, 2, 3, 1), X23);
        eval(13, s(2, 3), X23, b -> b.longInitializer("axes", s(1), -1).node("Unsqueeze", "n", in("x", "axes"), "y"))
                .is(s(2, 3, 1), X23);
    }

    @Test
    public void transposeConcatSplit() throws Exception {
        eval(s(2, 3), X23, b -> b.node("Transpose", "n", in("x"), "y")).is(s(3, 2), 1, 4, 2, 5, 3, 6);
        eval(s(1, 2, 3), X23, b -> b.node("Transpose", "n", in("x"), "y").attrInts("perm", 2, 0, 1)).is(s(3, 1, 2), 1, 4, 2, 5, 3, 6);
        eval(s(2, 3), X23, b -> b.initializer("c", s(2, 1), -1, -2).node("Concat", "n", in("x", "c", "x"), "y").attr("axis", -1L))
                .is(s(2, 7), 1, 2, 3, -1, 1, 2, 3, 4, 5, 6, -2, 4, 5, 6);
        eval(s(2, 3), X23, b -> b.node("Concat", "n", in("x", "x"), "y").attr("axis", 0L)).is(s(4, 3), 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6);
        eval(13, s(2, 3), X23, b -> b.longInitializer("sizes", s(2), 1, 2).node("Split", "n", in("x", "sizes"), "a", "y")
                .attr("axis", 1L)).is(s(2, 2), 2, 3, 5, 6);
        eval(11, s(2, 3), X23, b -> b.node("Split", "n", in("x"), "y", "b").attr("axis", 0L)).is(s(1, 3), 1, 2, 3);
        // opset 18, num_outputs 2 on a dimension of 3: chunks of 2 and 1.
        eval(18, s(2, 3), X23, b -> b.node("Split", "n", in("x"), "a", "y").attr("axis", 1L).attr("num_outputs", 2L))
                .is(s(2, 1), 3, 6);
    }

    @Test
    public void sliceWithStepsClampingAndBothOpsetStyles() throws Exception {
        float[] x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        eval(9, s(10), x, b -> b.node("Slice", "n", in("x"), "y").attrInts("starts", 2).attrInts("ends", -3)).is(s(5), 2, 3, 4, 5, 6);
        eval(13, s(10), x, b -> b.longInitializer("st", s(1), 1).longInitializer("en", s(1), Long.MAX_VALUE)
                .longInitializer("ax", s(1), 0).longInitializer("sp", s(1), 3)
                .node("Slice", "n", in("x", "st", "en", "ax", "sp"), "y")).is(s(3), 1, 4, 7);
        eval(13, s(10), x, b -> b.longInitializer("st", s(1), -1).longInitializer("en", s(1), Long.MIN_VALUE)
                .longInitializer("ax", s(1), 0).longInitializer("sp", s(1), -4)
                .node("Slice", "n", in("x", "st", "en", "ax", "sp"), "y")).is(s(3), 9, 5, 1);
        eval(13, s(2, 3), X23, b -> b.longInitializer("st", s(1), 1).longInitializer("en", s(1), 3)
                .longInitializer("ax", s(1), -1).node("Slice", "n", in("x", "st", "en", "ax"), "y")).is(s(2, 2), 2, 3, 5, 6);
        eval(13, s(10), x, b -> b.longInitializer("st", s(1), 5).longInitializer("en", s(1), 2)
                .node("Slice", "n", in("x", "st", "en"), "y")).is(s(0));
    }

    @Test
    public void gather() throws Exception {
        eval(s(2, 3), X23, b -> b.longInitializer("i", s(2), -1, 0).node("Gather", "n", in("x", "i"), "y").attr("axis", 1L))
                .is(s(2, 2), 3, 1, 6, 4);
        eval(s(2, 3), X23, b -> b.longInitializer("i", s(), 1).node("Gather", "n", in("x", "i"), "y")).is(s(3), 4, 5, 6);
    }

    @Test
    public void expandAndTile() throws Exception {
        eval(s(3, 1), new float[] {1, 2, 3}, b -> b.longInitializer("shape", s(2), 1, 2).node("Expand", "n", in("x", "shape"), "y"))
                .is(s(3, 2), 1, 1, 2, 2, 3, 3);
        eval(s(2), new float[] {1, 2}, b -> b.longInitializer("shape", s(2), 2, 1).node("Expand", "n", in("x", "shape"), "y"))
                .is(s(2, 2), 1, 2, 1, 2);
        eval(s(1, 2), new float[] {1, 2}, b -> b.longInitializer("r", s(2), 2, 2).node("Tile", "n", in("x", "r"), "y"))
                .is(s(2, 4), 1, 2, 1, 2, 1, 2, 1, 2);
    }

    @Test
    public void constantsAndShapeOperators() throws Exception {
        eval(s(2, 3), X23, b -> b.node("Constant", "c", in(), "k").attrFloats("value_floats", 1, 2, 3)
                .node("Add", "a", in("x", "k"), "y")).is(s(2, 3), 2, 4, 6, 5, 7, 9);
        eval(s(2, 3), X23, b -> b.node("Constant", "c", in(), "k")
                .attrTensor("value", OnnxBuilder.floatTensor("", s(1), new float[] {10}, true))
                .node("Mul", "a", in("x", "k"), "y")).is(s(2, 3), 10, 20, 30, 40, 50, 60);
        eval(s(2, 3), X23, b -> b.node("Shape", "s", in("x"), "sh").node("ConstantOfShape", "c", in("sh"), "z")
                .attrTensor("value", OnnxBuilder.floatTensor("", s(1), new float[] {0.5f}, false))
                .node("Add", "a", in("x", "z"), "y")).is(s(2, 3), 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f);
        eval(s(2, 3), X23, b -> b.node("Shape", "s", in("x"), "sh").attr("start", -1L)
                .node("Cast", "c", in("sh"), "y").attr("to", 1L)).is(s(1), 3);
        eval(s(2, 3), X23, b -> b.node("Size", "s", in("x"), "n").node("Cast", "c", in("n"), "y").attr("to", 1L)).is(s(), 6);
        eval(s(2, 3), X23, b -> b.longInitializer("start", s(), 1).longInitializer("limit", s(), 8).longInitializer("delta", s(), 3)
                .node("Range", "r", in("start", "limit", "delta"), "i").node("Cast", "c", in("i"), "y").attr("to", 1L))
                .is(s(3), 1, 4, 7);
        // value_int is an INT64 scalar.
        eval(s(2, 3), X23, b -> b.node("Constant", "c", in(), "k").attr("value_int", 4L)
                .node("Cast", "f", in("k"), "kf").attr("to", 1L).node("Sub", "s", in("x", "kf"), "y"))
                .is(s(2, 3), -3, -2, -1, 0, 1, 2);
    }

    @Test
    public void integerShapeArithmeticFoldsExactly() throws Exception {
        // (n + 1) / 2 * 2 on the batch dimension, as exporters compute chunk boundaries.
        OnnxBuilder b = new OnnxBuilder().opset(13).input("x", "batch", 5).output("y")
                .longInitializer("zero", s(), 0).longInitializer("one", s(), 1).longInitializer("two", s(), 2);
        b.node("Shape", "s", in("x"), "sh");
        b.node("Gather", "g", in("sh", "zero"), "n");
        b.node("Add", "a", in("n", "one"), "n1");
        b.node("Div", "d", in("n1", "two"), "h");
        b.node("Mul", "m", in("h", "two"), "r");
        b.node("Cast", "c", in("r"), "y").attr("to", 1L);
        OnnxModel model = b.load();
        Map<String, float[]> x = new HashMap<>();
        for (int batch = 1; batch <= 6; batch++) {
            x.put("x", new float[5 * batch]);
            assertEquals((batch + 1) / 2 * 2, model.run(x, batch).get("y")[0], 0f);
        }
    }
}
