package com.alpyperl.policy;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.alpyperl.policy.Planner.Node;
import com.alpyperl.policy.Planner.Value;
import com.alpyperl.policy.Tensor.DType;

/**
 * The supported ONNX operators (default domain, opsets 7 to {@link #MAX_OPSET}). For each node,
 * {@link #plan} checks input types and shapes and attributes against the operator's definition in
 * the node's opset, computes the output shapes and adds the kernels that compute the outputs.
 * Inputs that decide shapes (Reshape's shape, Slice's starts, Gather's indices, ...) must be
 * constants at load time; with the batch size fixed per plan that covers the shape arithmetic
 * that exporters emit.
 */
final class Ops {

    static final int MIN_OPSET = 7;
    static final int MAX_OPSET = 24;

    private static final Map<String, Integer> UNARY = new HashMap<>();

    static {
        UNARY.put("Tanh", Kernels.TANH);
        UNARY.put("Relu", Kernels.RELU);
        UNARY.put("Sigmoid", Kernels.SIGMOID);
        UNARY.put("Exp", Kernels.EXP);
        UNARY.put("Log", Kernels.LOG);
        UNARY.put("Neg", Kernels.NEG);
        UNARY.put("Abs", Kernels.ABS);
        UNARY.put("Sqrt", Kernels.SQRT);
        UNARY.put("Reciprocal", Kernels.RECIPROCAL);
        UNARY.put("Softplus", Kernels.SOFTPLUS);
        UNARY.put("Elu", Kernels.ELU);
        UNARY.put("LeakyRelu", Kernels.LEAKY_RELU);
        UNARY.put("Selu", Kernels.SELU);
        UNARY.put("HardSigmoid", Kernels.HARD_SIGMOID);
        UNARY.put("HardSwish", Kernels.HARD_SWISH);
        UNARY.put("Erf", Kernels.ERF);
        UNARY.put("Gelu", Kernels.GELU);
        UNARY.put("Floor", Kernels.FLOOR);
        UNARY.put("Ceil", Kernels.CEIL);
        UNARY.put("Softsign", Kernels.SOFTSIGN);
    }

    private static final Map<String, Integer> BINARY = new HashMap<>();

    static {
        BINARY.put("Add", Kernels.ADD);
        BINARY.put("Sub", Kernels.SUB);
        BINARY.put("Mul", Kernels.MUL);
        BINARY.put("Div", Kernels.DIV);
        BINARY.put("Pow", Kernels.POW);
    }

    private static final Map<String, Integer> COMPARE = new HashMap<>();

    static {
        COMPARE.put("Equal", Kernels.EQUAL);
        COMPARE.put("Less", Kernels.LESS);
        COMPARE.put("Greater", Kernels.GREATER);
        COMPARE.put("LessOrEqual", Kernels.LESS_OR_EQUAL);
        COMPARE.put("GreaterOrEqual", Kernels.GREATER_OR_EQUAL);
        COMPARE.put("And", Kernels.AND);
        COMPARE.put("Or", Kernels.OR);
        COMPARE.put("Xor", Kernels.XOR);
    }

    private static final Map<String, Integer> REDUCE = new HashMap<>();

    static {
        REDUCE.put("ReduceSum", Kernels.R_SUM);
        REDUCE.put("ReduceMean", Kernels.R_MEAN);
        REDUCE.put("ReduceMax", Kernels.R_MAX);
        REDUCE.put("ReduceMin", Kernels.R_MIN);
        REDUCE.put("ReduceProd", Kernels.R_PROD);
    }

    /** Names of all supported operators. */
    static final Set<String> SUPPORTED;

    static {
        Set<String> s = new TreeSet<>(Arrays.asList("Identity", "Dropout", "Constant", "Shape", "Size",
                "ConstantOfShape", "Range", "Cast", "Max", "Min", "Sum", "Gemm", "MatMul", "Softmax", "LogSoftmax",
                "LayerNormalization", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice",
                "Gather", "Expand", "Tile", "Transpose", "Clip", "ArgMax", "ArgMin", "Not", "Where"));
        s.addAll(COMPARE.keySet());
        s.addAll(UNARY.keySet());
        s.addAll(BINARY.keySet());
        s.addAll(REDUCE.keySet());
        SUPPORTED = Collections.unmodifiableSet(s);
    }

    private Ops() {
    }

    /** Plans one node (its operator is in {@link #SUPPORTED}). */
    static void plan(Node n) {
        String op = n.op();
        Integer code = UNARY.get(op);
        if (code != null) {
            unary(n, code);
            return;
        }
        code = BINARY.get(op);
        if (code != null) {
            binary(n, code, n.in(0), n.in(1), 0);
            return;
        }
        code = REDUCE.get(op);
        if (code != null) {
            reduce(n, code);
            return;
        }
        code = COMPARE.get(op);
        if (code != null) {
            compare(n, code);
            return;
        }
        switch (op) {
            case "Identity":
                n.alias(0, n.in(0), n.in(0).shape);
                break;
            case "Dropout":
                dropout(n);
                break;
            case "Constant":
                constant(n);
                break;
            case "Shape":
                shape(n);
                break;
            case "Size":
                n.constant(0, Tensor.ofLongs(new int[0], n.in(0).size()));
                break;
            case "ConstantOfShape":
                constantOfShape(n);
                break;
            case "Range":
                range(n);
                break;
            case "Cast":
                cast(n);
                break;
            case "Max":
                variadic(n, Kernels.MAX);
                break;
            case "Min":
                variadic(n, Kernels.MIN);
                break;
            case "Sum":
                variadic(n, Kernels.ADD);
                break;
            case "Gemm":
                gemm(n);
                break;
            case "MatMul":
                matmul(n);
                break;
            case "Softmax":
            case "LogSoftmax":
                softmax(n, op.equals("LogSoftmax"));
                break;
            case "LayerNormalization":
                layerNorm(n);
                break;
            case "Flatten":
                flatten(n);
                break;
            case "Reshape":
                reshape(n);
                break;
            case "Squeeze":
                squeeze(n);
                break;
            case "Unsqueeze":
                unsqueeze(n);
                break;
            case "Concat":
                concat(n);
                break;
            case "Split":
                split(n);
                break;
            case "Slice":
                slice(n);
                break;
            case "Gather":
                gather(n);
                break;
            case "Expand":
                expand(n);
                break;
            case "Tile":
                tile(n);
                break;
            case "Transpose":
                transpose(n);
                break;
            case "Clip":
                clip(n);
                break;
            case "ArgMax":
            case "ArgMin":
                argExtreme(n, op.equals("ArgMax"));
                break;
            case "Not":
                requireType(n, n.in(0), DType.BOOL);
                n.kernel(new Kernels.Not(n.in(0).slot, n.out(0, DType.BOOL, n.in(0).shape)));
                break;
            case "Where":
                where(n);
                break;
            default:
                throw n.fail("unsupported ONNX operator '" + op + "'");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void requireType(Node n, Value v, DType... allowed) {
        for (DType t : allowed) {
            if (v.type == t) {
                return;
            }
        }
        throw n.fail("input '" + v.name + "' has type " + v.type + ", expected " + Arrays.toString(allowed));
    }

    private static void sameType(Node n, Value a, Value b) {
        if (a.type != b.type) {
            throw n.fail("inputs '" + a.name + "' (" + a.type + ") and '" + b.name + "' (" + b.type + ") must have the same type");
        }
    }

    private static int[] slots(Value... vs) {
        int[] s = new int[vs.length];
        for (int i = 0; i < vs.length; i++) {
            s[i] = vs[i].slot;
        }
        return s;
    }

    /** from[i] = base + sum_d o_d * strides[d] over the multi-index o of output element i. */
    private static int[] strided(Node n, int[] outShape, int base, int[] strides) {
        int size = Shapes.size(outShape);
        n.charge(size);
        int[] from = new int[size];
        int rank = outShape.length;
        int[] idx = new int[rank];
        int src = base;
        for (int k = 0; k < size; k++) {
            from[k] = src;
            for (int d = rank - 1; d >= 0; d--) {
                idx[d]++;
                src += strides[d];
                if (idx[d] < outShape[d]) {
                    break;
                }
                src -= strides[d] * idx[d];
                idx[d] = 0;
            }
        }
        return from;
    }

    private static int[] broadcastMap(Node n, int[] in, int[] out) {
        if (Arrays.equals(in, out)) {
            return null;
        }
        n.charge(Shapes.size(out));
        return Shapes.broadcastIndex(in, out);
    }

    private static long[] axesAttrOrInput(Node n, int inputIndex, int firstOpsetWithInput) {
        if (n.opset() >= firstOpsetWithInput) {
            return n.constInts(inputIndex);
        }
        return n.attrInts("axes");
    }

    // ---------------------------------------------------------------- element-wise

    private static void unary(Node n, int code) {
        Value x = n.in(0);
        float alpha = 0f;
        float beta = 0f;
        float gamma = 0f;
        switch (code) {
            case Kernels.ELU:
                alpha = n.attrFloat("alpha", 1f);
                break;
            case Kernels.LEAKY_RELU:
                alpha = n.attrFloat("alpha", 0.01f);
                break;
            case Kernels.SELU:
                alpha = n.attrFloat("alpha", 1.67326319217681884765625f);
                gamma = n.attrFloat("gamma", 1.05070102214813232421875f);
                break;
            case Kernels.HARD_SIGMOID:
                alpha = n.attrFloat("alpha", 0.2f);
                beta = n.attrFloat("beta", 0.5f);
                break;
            case Kernels.GELU: {
                String approx = n.attrString("approximate", "none");
                if (approx.equals("tanh")) {
                    code = Kernels.GELU_TANH;
                } else if (!approx.equals("none")) {
                    throw n.fail("unsupported value '" + approx + "' of attribute 'approximate'");
                }
                break;
            }
            default:
                break;
        }
        if (x.type == DType.INT64 && (code == Kernels.NEG || code == Kernels.ABS)) {
            n.kernel(new Kernels.UnaryLong(code == Kernels.NEG, x.slot, n.out(0, DType.INT64, x.shape)));
            return;
        }
        requireType(n, x, DType.FLOAT);
        if ((code == Kernels.TANH || code == Kernels.RELU || code == Kernels.SIGMOID) && n.fuseActivation(x, code)) {
            return;
        }
        n.kernel(new Kernels.Unary(code, x.slot, n.out(0, DType.FLOAT, x.shape), x.size(), alpha, beta, gamma));
    }

    /** Plans {@code a op b} (numpy broadcasting) into output {@code outIndex}. */
    private static void binary(Node n, int op, Value a, Value b, int outIndex) {
        if (op == Kernels.POW && a.type == DType.FLOAT && b.type == DType.INT64) {
            double[] e = n.constNumbers(b);
            float[] f = new float[e.length];
            for (int i = 0; i < e.length; i++) {
                f[i] = (float) e[i];
            }
            b = n.hiddenConstant(Tensor.ofFloats(b.shape, f), b.name);
        }
        sameType(n, a, b);
        requireType(n, a, DType.FLOAT, DType.INT64);
        if (op == Kernels.POW && a.type != DType.FLOAT) {
            throw n.fail("Pow on integers is not supported");
        }
        int[] shape = Shapes.broadcast(a.shape, b.shape);
        int[] mapA = broadcastMap(n, a.shape, shape);
        int[] mapB = broadcastMap(n, b.shape, shape);
        int out = n.out(outIndex, a.type, shape);
        n.kernel(new Kernels.Binary(op, a.type == DType.FLOAT, a.slot, b.slot, out, Shapes.size(shape), mapA, mapB));
    }

    private static void variadic(Node n, int op) {
        if (n.inputCount() == 0) {
            throw n.fail("needs at least one input");
        }
        Value acc = n.in(0);
        if (n.inputCount() == 1) {
            n.alias(0, acc, acc.shape);
            return;
        }
        for (int i = 1; i < n.inputCount(); i++) {
            Value b = n.in(i);
            if (i == n.inputCount() - 1) {
                binary(n, op, acc, b, 0);
            } else {
                sameType(n, acc, b);
                requireType(n, acc, DType.FLOAT, DType.INT64);
                int[] shape = Shapes.broadcast(acc.shape, b.shape);
                Value t = n.temp(acc.type, shape);
                n.kernel(new Kernels.Binary(op, acc.type == DType.FLOAT, acc.slot, b.slot, t.slot, Shapes.size(shape),
                        broadcastMap(n, acc.shape, shape), broadcastMap(n, b.shape, shape)));
                acc = t;
            }
        }
    }

    private static void clip(Node n) {
        Value x = n.in(0);
        requireType(n, x, DType.FLOAT, DType.INT64);
        double lo = Double.NEGATIVE_INFINITY;
        double hi = Double.POSITIVE_INFINITY;
        long loL = Long.MIN_VALUE;
        long hiL = Long.MAX_VALUE;
        if (n.opset() < 11) {
            lo = n.attrFloat("min", -Float.MAX_VALUE);
            hi = n.attrFloat("max", Float.MAX_VALUE);
        } else {
            Value min = n.opt(1);
            Value max = n.opt(2);
            for (int i = 0; i < 2; i++) {
                Value v = i == 0 ? min : max;
                if (v == null) {
                    continue;
                }
                sameType(n, x, v);
                if (v.size() != 1) {
                    throw n.fail("input '" + v.name + "' must be a scalar");
                }
                if (i == 0) {
                    lo = n.constNumbers(v)[0];
                    loL = x.type == DType.INT64 ? ((long[]) n.data(v))[0] : loL;
                } else {
                    hi = n.constNumbers(v)[0];
                    hiL = x.type == DType.INT64 ? ((long[]) n.data(v))[0] : hiL;
                }
            }
        }
        int out = n.out(0, x.type, x.shape);
        n.kernel(new Kernels.Clip(x.slot, out, (float) lo, (float) hi, loL, hiL));
    }

    private static void cast(Node n) {
        Value x = n.in(0);
        long to = n.attrInt("to", -1);
        n.ignoreAttribute("saturate"); // only affects float8 targets, which are refused below
        DType target;
        int mode = Kernels.CAST_PLAIN;
        if (to == Tensor.ONNX_FLOAT) {
            target = DType.FLOAT;
        } else if (to == Tensor.ONNX_DOUBLE) {
            target = DType.DOUBLE;
        } else if (to == Tensor.ONNX_INT64) {
            target = DType.INT64;
        } else if (to == Tensor.ONNX_INT32) {
            target = DType.INT64;
            mode = Kernels.CAST_INT32;
        } else if (to == Tensor.ONNX_BOOL) {
            target = DType.BOOL;
            mode = Kernels.CAST_BOOL;
        } else {
            throw n.fail("Cast to " + (to < 0 ? "an unspecified type" : Tensor.onnxTypeName((int) to)) + " is not supported");
        }
        if (target == x.type && mode != Kernels.CAST_INT32) {
            n.alias(0, x, x.shape);
            return;
        }
        n.kernel(new Kernels.Cast(x.slot, n.out(0, target, x.shape), mode));
    }

    private static void compare(Node n, int op) {
        Value a = n.in(0);
        Value b = n.in(1);
        sameType(n, a, b);
        if (op >= Kernels.AND) {
            requireType(n, a, DType.BOOL);
        } else {
            requireType(n, a, DType.FLOAT, DType.INT64, DType.BOOL);
        }
        int[] shape = Shapes.broadcast(a.shape, b.shape);
        int[] mapA = broadcastMap(n, a.shape, shape);
        int[] mapB = broadcastMap(n, b.shape, shape);
        n.kernel(new Kernels.Compare(op, a.slot, b.slot, n.out(0, DType.BOOL, shape), mapA, mapB));
    }

    private static void where(Node n) {
        Value c = n.in(0);
        Value x = n.in(1);
        Value y = n.in(2);
        requireType(n, c, DType.BOOL);
        sameType(n, x, y);
        requireType(n, x, DType.FLOAT, DType.INT64, DType.BOOL);
        int[] shape = Shapes.broadcast(Shapes.broadcast(c.shape, x.shape), y.shape);
        n.kernel(new Kernels.Where(c.slot, x.slot, y.slot, n.out(0, x.type, shape), broadcastMap(n, c.shape, shape),
                broadcastMap(n, x.shape, shape), broadcastMap(n, y.shape, shape)));
    }

    private static void dropout(Node n) {
        Value x = n.in(0);
        n.ignoreAttribute("seed");
        n.ignoreAttribute("ratio");
        if (n.opset() < 7) {
            n.ignoreAttribute("is_test");
        }
        if (n.opt(1) != null) {
            n.data(n.opt(1)); // ratio: must be constant; irrelevant at inference
        }
        Value training = n.opt(2);
        if (training != null && n.constNumbers(training)[0] != 0) {
            throw n.fail("Dropout in training mode is not supported");
        }
        if (n.hasOutput(1)) {
            throw n.fail("the mask output of Dropout is not supported");
        }
        n.alias(0, x, x.shape);
    }

    // ---------------------------------------------------------------- constants and shapes

    private static void constant(Node n) {
        Tensor t = n.attrTensor("value");
        int found = t != null ? 1 : 0;
        if (n.has("value_float")) {
            t = Tensor.ofFloats(new int[0], n.attrFloat("value_float", 0f));
            found++;
        }
        if (n.has("value_floats")) {
            float[] f = n.attrFloats("value_floats");
            t = Tensor.ofFloats(new int[] {f.length}, f);
            found++;
        }
        if (n.has("value_int")) {
            t = Tensor.ofLongs(new int[0], n.attrInt("value_int", 0));
            found++;
        }
        if (n.has("value_ints")) {
            long[] l = n.attrInts("value_ints");
            t = Tensor.ofLongs(new int[] {l.length}, l);
            found++;
        }
        if (found != 1) {
            throw n.fail(found == 0 ? "no supported value attribute (value, value_float(s), value_int(s))"
                    : "more than one value attribute");
        }
        n.constant(0, t);
    }

    private static void shape(Node n) {
        int[] s = n.in(0).shape;
        int rank = s.length;
        long start = n.attrInt("start", 0);
        long end = n.attrInt("end", rank);
        start = Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
        end = Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
        int len = (int) Math.max(0, end - start);
        long[] dims = new long[len];
        for (int i = 0; i < len; i++) {
            dims[i] = s[(int) start + i];
        }
        n.constant(0, Tensor.ofLongs(new int[] {len}, dims));
    }

    private static int[] shapeInput(Node n, int i) {
        long[] s = n.constInts(i);
        if (s == null) {
            throw n.fail("required input " + (i + 1) + " is missing");
        }
        if (n.in(i).rank() != 1) {
            throw n.fail("the shape input must be one-dimensional");
        }
        return Shapes.toInts(s, "the shape input");
    }

    private static void constantOfShape(Node n) {
        int[] shape = shapeInput(n, 0);
        Tensor value = n.attrTensor("value");
        if (value != null && value.size() != 1) {
            throw n.fail("attribute 'value' must hold exactly one element");
        }
        DType type = value == null ? DType.FLOAT : value.type;
        Object out = n.newConstant(0, type, shape);
        if (value != null) {
            if (out instanceof float[]) {
                Arrays.fill((float[]) out, value.floats()[0]);
            } else if (out instanceof long[]) {
                Arrays.fill((long[]) out, value.longs()[0]);
            } else {
                Arrays.fill((double[]) out, ((double[]) value.data)[0]);
            }
        }
    }

    private static void range(Node n) {
        Value start = n.in(0);
        Value limit = n.in(1);
        Value delta = n.in(2);
        sameType(n, start, limit);
        sameType(n, start, delta);
        requireType(n, start, DType.FLOAT, DType.INT64);
        if (start.size() != 1 || limit.size() != 1 || delta.size() != 1) {
            throw n.fail("start, limit and delta must be scalars");
        }
        if (start.type == DType.INT64) {
            long s = ((long[]) n.data(start))[0];
            long l = ((long[]) n.data(limit))[0];
            long d = ((long[]) n.data(delta))[0];
            if (d == 0) {
                throw n.fail("delta is zero");
            }
            double count = Math.max(0, Math.ceil(((double) l - s) / d));
            long[] out = (long[]) n.newConstant(0, DType.INT64, new int[] {count(n, count)});
            for (int i = 0; i < out.length; i++) {
                out[i] = s + i * d;
            }
        } else {
            float s = ((float[]) n.data(start))[0];
            float l = ((float[]) n.data(limit))[0];
            float d = ((float[]) n.data(delta))[0];
            if (d == 0 || Float.isNaN(d) || Float.isInfinite(d)) {
                throw n.fail("delta must be finite and non-zero");
            }
            double count = Math.max(0, Math.ceil(((double) l - s) / d));
            float[] out = (float[]) n.newConstant(0, DType.FLOAT, new int[] {count(n, count)});
            for (int i = 0; i < out.length; i++) {
                out[i] = s + i * d;
            }
        }
    }

    private static int count(Node n, double count) {
        if (!(count <= Shapes.MAX_ELEMENTS)) {
            throw n.fail("Range would produce " + count + " elements");
        }
        return (int) count;
    }

    // ---------------------------------------------------------------- views (no data movement)

    private static void flatten(Node n) {
        Value x = n.in(0);
        int rank = x.rank();
        long axis = n.attrInt("axis", 1);
        int a = axis == rank ? rank : Shapes.axis(axis, rank, "axis");
        n.alias(0, x, new int[] {Shapes.product(x.shape, 0, a), Shapes.product(x.shape, a, rank)});
    }

    private static void reshape(Node n) {
        Value x = n.in(0);
        int[] in = x.shape;
        long[] target = n.constInts(1);
        if (target == null) {
            throw n.fail("required input 2 (shape) is missing");
        }
        boolean allowZero = n.opset() >= 14 && n.attrInt("allowzero", 0) != 0;
        int[] out = new int[target.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.length; i++) {
            long d = target[i];
            if (d == -1) {
                if (infer >= 0) {
                    throw n.fail("the target shape " + Arrays.toString(target) + " has more than one -1");
                }
                infer = i;
                continue;
            }
            if (d == 0 && !allowZero) {
                if (i >= in.length) {
                    throw n.fail("the target shape " + Arrays.toString(target) + " copies dimension " + i
                            + " of a tensor of rank " + in.length);
                }
                d = in[i];
            }
            if (d < 0 || d > Shapes.MAX_ELEMENTS) {
                throw n.fail("invalid dimension " + d + " in the target shape " + Arrays.toString(target));
            }
            out[i] = (int) d;
            known *= d;
            if (known > Shapes.MAX_ELEMENTS) {
                throw n.fail("the target shape " + Arrays.toString(target) + " is too large");
            }
        }
        int size = x.size();
        if (infer >= 0) {
            if (known == 0 || size % known != 0) {
                throw n.fail("cannot reshape " + Shapes.str(in) + " to " + Arrays.toString(target));
            }
            out[infer] = (int) (size / known);
        }
        if (Shapes.size(out) != size) {
            throw n.fail("cannot reshape " + Shapes.str(in) + " (" + size + " elements) to " + Shapes.str(out));
        }
        n.alias(0, x, out);
    }

    private static void squeeze(Node n) {
        Value x = n.in(0);
        long[] axes = axesAttrOrInput(n, 1, 13);
        int rank = x.rank();
        boolean[] drop = new boolean[rank];
        if (axes == null || axes.length == 0) {
            for (int d = 0; d < rank; d++) {
                drop[d] = x.shape[d] == 1;
            }
        } else {
            for (long a : axes) {
                int d = Shapes.axis(a, rank, "axis");
                if (x.shape[d] != 1) {
                    throw n.fail("cannot squeeze dimension " + d + " of size " + x.shape[d] + " in " + Shapes.str(x.shape));
                }
                drop[d] = true;
            }
        }
        int[] out = new int[rank];
        int k = 0;
        for (int d = 0; d < rank; d++) {
            if (!drop[d]) {
                out[k++] = x.shape[d];
            }
        }
        n.alias(0, x, Arrays.copyOf(out, k));
    }

    private static void unsqueeze(Node n) {
        Value x = n.in(0);
        long[] axes = axesAttrOrInput(n, 1, 13);
        if (axes == null) {
            throw n.fail("the axes are missing");
        }
        int outRank = x.rank() + axes.length;
        boolean[] added = new boolean[outRank];
        for (long a : axes) {
            int d = Shapes.axis(a, outRank, "axis");
            if (added[d]) {
                throw n.fail("axis " + a + " is given twice");
            }
            added[d] = true;
        }
        int[] out = new int[outRank];
        int k = 0;
        for (int d = 0; d < outRank; d++) {
            out[d] = added[d] ? 1 : x.shape[k++];
        }
        n.alias(0, x, out);
    }

    // ---------------------------------------------------------------- data movement

    private static void concat(Node n) {
        if (n.inputCount() == 0) {
            throw n.fail("needs at least one input");
        }
        Value first = n.in(0);
        int rank = first.rank();
        if (!n.has("axis")) {
            throw n.fail("attribute 'axis' is required");
        }
        int axis = Shapes.axis(n.attrInt("axis", 0), rank, "axis");
        Value[] ins = new Value[n.inputCount()];
        int[] out = first.shape.clone();
        out[axis] = 0;
        for (int i = 0; i < ins.length; i++) {
            Value v = n.in(i);
            sameType(n, first, v);
            if (v.rank() != rank) {
                throw n.fail("inputs of ranks " + rank + " and " + v.rank() + " cannot be concatenated");
            }
            for (int d = 0; d < rank; d++) {
                if (d != axis && v.shape[d] != first.shape[d]) {
                    throw n.fail("shapes " + Shapes.str(first.shape) + " and " + Shapes.str(v.shape)
                            + " differ outside the concatenation axis " + axis);
                }
            }
            out[axis] += v.shape[axis];
            ins[i] = v;
        }
        int slot = n.out(0, first.type, out);
        int outer = Shapes.product(out, 0, axis);
        int inner = Shapes.product(out, axis + 1, rank);
        long runCount = 4L * outer * ins.length;
        n.charge(runCount);
        int[] runs = new int[(int) runCount];
        int r = 0;
        int dst = 0;
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < ins.length; i++) {
                int len = ins[i].shape[axis] * inner;
                if (len == 0) {
                    continue;
                }
                runs[r++] = i;
                runs[r++] = o * len;
                runs[r++] = dst;
                runs[r++] = len;
                dst += len;
            }
        }
        n.kernel(new Kernels.Move(slots(ins), slot, Arrays.copyOf(runs, r)));
    }

    private static void split(Node n) {
        Value x = n.in(0);
        int rank = x.rank();
        int axis = Shapes.axis(n.attrInt("axis", 0), rank, "axis");
        int dim = x.shape[axis];
        int parts = n.outputCount();
        long[] sizes = n.opset() >= 13 ? n.constInts(1) : n.attrInts("split");
        if (n.opset() >= 18 && n.has("num_outputs")) {
            long num = n.attrInt("num_outputs", 0);
            if (sizes != null) {
                throw n.fail("both 'split' and 'num_outputs' are given");
            }
            if (num != parts) {
                throw n.fail("num_outputs is " + num + " but the node has " + parts + " outputs");
            }
            int chunk = (dim + parts - 1) / parts;
            sizes = new long[parts];
            for (int i = 0; i < parts; i++) {
                sizes[i] = Math.max(0, Math.min(chunk, dim - (long) chunk * i));
            }
        } else if (sizes == null) {
            if (parts == 0 || dim % parts != 0) {
                throw n.fail("cannot split dimension " + dim + " into " + parts + " equal parts");
            }
            sizes = new long[parts];
            Arrays.fill(sizes, dim / parts);
        }
        if (sizes.length != parts) {
            throw n.fail(sizes.length + " split sizes for " + parts + " outputs");
        }
        long total = 0;
        for (long s : sizes) {
            if (s < 0) {
                throw n.fail("negative split size " + s);
            }
            total += s;
        }
        if (total != dim) {
            throw n.fail("split sizes " + Arrays.toString(sizes) + " do not add up to dimension " + dim);
        }
        int outer = Shapes.product(x.shape, 0, axis);
        int inner = Shapes.product(x.shape, axis + 1, rank);
        int offset = 0;
        for (int p = 0; p < parts; p++) {
            int len = (int) sizes[p];
            int[] shape = x.shape.clone();
            shape[axis] = len;
            int slot = n.out(p, x.type, shape);
            n.charge(4L * outer);
            int[] runs = new int[4 * outer];
            int r = 0;
            for (int o = 0; o < outer && len > 0; o++) {
                runs[r++] = 0;
                runs[r++] = (o * dim + offset) * inner;
                runs[r++] = o * len * inner;
                runs[r++] = len * inner;
            }
            n.kernel(new Kernels.Move(new int[] {x.slot}, slot, Arrays.copyOf(runs, r)));
            offset += len;
        }
    }

    private static void slice(Node n) {
        Value x = n.in(0);
        int rank = x.rank();
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (n.opset() < 10) {
            starts = n.attrInts("starts");
            ends = n.attrInts("ends");
            axes = n.attrInts("axes");
        } else {
            starts = n.constInts(1);
            ends = n.constInts(2);
            axes = n.constInts(3);
            steps = n.constInts(4);
        }
        if (starts == null || ends == null || starts.length != ends.length) {
            throw n.fail("starts and ends are required and must have the same length");
        }
        if (axes == null) {
            axes = new long[starts.length];
            for (int i = 0; i < axes.length; i++) {
                axes[i] = i;
            }
        }
        if (steps == null) {
            steps = new long[starts.length];
            Arrays.fill(steps, 1);
        }
        if (axes.length != starts.length || steps.length != starts.length) {
            throw n.fail("starts, ends, axes and steps must have the same length");
        }
        int[] begin = new int[rank];
        int[] step = new int[rank];
        int[] out = x.shape.clone();
        Arrays.fill(step, 1);
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < starts.length; i++) {
            int d = Shapes.axis(axes[i], rank, "axis");
            if (seen[d]) {
                throw n.fail("axis " + d + " is sliced twice");
            }
            seen[d] = true;
            long dim = x.shape[d];
            long st = steps[i];
            if (st == 0) {
                throw n.fail("slice step is zero");
            }
            if (Math.abs(st) > Shapes.MAX_ELEMENTS) {
                st = st > 0 ? Shapes.MAX_ELEMENTS : -Shapes.MAX_ELEMENTS;
            }
            long s = starts[i];
            long e = ends[i];
            s = s < 0 ? s + dim : s;
            e = e < 0 ? e + dim : e;
            long count;
            if (st > 0) {
                s = Math.max(0, Math.min(dim, s));
                e = Math.max(0, Math.min(dim, e));
                count = e > s ? (e - s + st - 1) / st : 0;
            } else {
                s = Math.max(-1, Math.min(dim - 1, s));
                e = Math.max(-1, Math.min(dim - 1, e));
                count = s > e ? (s - e + (-st) - 1) / (-st) : 0;
            }
            begin[d] = count > 0 ? (int) s : 0;
            step[d] = (int) st;
            out[d] = (int) count;
        }
        int[] strides = Shapes.strides(x.shape);
        int base = 0;
        int[] outStrides = new int[rank];
        for (int d = 0; d < rank; d++) {
            base += begin[d] * strides[d];
            outStrides[d] = step[d] * strides[d];
        }
        int slot = n.out(0, x.type, out);
        n.kernel(Kernels.move(new int[] {x.slot}, slot, null, strided(n, out, base, outStrides)));
    }

    private static void gather(Node n) {
        Value data = n.in(0);
        Value indices = n.in(1);
        int rank = data.rank();
        if (rank == 0) {
            throw n.fail("cannot gather from a scalar");
        }
        int axis = Shapes.axis(n.attrInt("axis", 0), rank, "axis");
        long[] idx = n.constInts(1);
        int dim = data.shape[axis];
        int[] out = new int[rank - 1 + indices.rank()];
        System.arraycopy(data.shape, 0, out, 0, axis);
        System.arraycopy(indices.shape, 0, out, axis, indices.rank());
        System.arraycopy(data.shape, axis + 1, out, axis + indices.rank(), rank - axis - 1);
        int outer = Shapes.product(data.shape, 0, axis);
        int inner = Shapes.product(data.shape, axis + 1, rank);
        int size = Shapes.size(out);
        n.charge(size);
        int[] from = new int[size];
        int k = 0;
        for (int o = 0; o < outer; o++) {
            for (long raw : idx) {
                long j = raw < 0 ? raw + dim : raw;
                if (j < 0 || j >= dim) {
                    throw n.fail("index " + raw + " is out of range for dimension " + dim);
                }
                for (int i = 0; i < inner; i++) {
                    from[k++] = (o * dim + (int) j) * inner + i;
                }
            }
        }
        int slot = n.out(0, data.type, out);
        n.kernel(Kernels.move(new int[] {data.slot}, slot, null, from));
    }

    private static void expand(Node n) {
        Value x = n.in(0);
        int[] target = shapeInput(n, 1);
        int[] out = Shapes.broadcast(x.shape, target);
        if (Arrays.equals(out, x.shape)) {
            n.alias(0, x, out);
            return;
        }
        int slot = n.out(0, x.type, out);
        n.charge(Shapes.size(out));
        n.kernel(Kernels.move(new int[] {x.slot}, slot, null, Shapes.broadcastIndex(x.shape, out)));
    }

    private static void tile(Node n) {
        Value x = n.in(0);
        long[] repeats = n.constInts(1);
        int rank = x.rank();
        if (repeats == null || repeats.length != rank) {
            throw n.fail("repeats must have one entry per dimension (" + rank + ")");
        }
        int[] out = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (repeats[d] < 0) {
                throw n.fail("negative repeat count " + repeats[d]);
            }
            long v = x.shape[d] * repeats[d];
            if (v > Shapes.MAX_ELEMENTS) {
                throw n.fail("the tiled tensor is too large");
            }
            out[d] = (int) v;
        }
        int size = Shapes.size(out);
        n.charge(size);
        int[] from = new int[size];
        int[] strides = Shapes.strides(x.shape);
        int[] idx = new int[rank];
        for (int k = 0; k < size; k++) {
            int src = 0;
            for (int d = 0; d < rank; d++) {
                src += (idx[d] % x.shape[d]) * strides[d];
            }
            from[k] = src;
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < out[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        int slot = n.out(0, x.type, out);
        n.kernel(Kernels.move(new int[] {x.slot}, slot, null, from));
    }

    private static void transpose(Node n) {
        Value x = n.in(0);
        int rank = x.rank();
        long[] perm = n.attrInts("perm");
        if (perm == null) {
            perm = new long[rank];
            for (int d = 0; d < rank; d++) {
                perm[d] = rank - 1 - d;
            }
        }
        if (perm.length != rank) {
            throw n.fail("perm " + Arrays.toString(perm) + " does not match rank " + rank);
        }
        boolean[] seen = new boolean[rank];
        int[] out = new int[rank];
        int[] strides = Shapes.strides(x.shape);
        int[] outStrides = new int[rank];
        for (int d = 0; d < rank; d++) {
            if (perm[d] < 0 || perm[d] >= rank || seen[(int) perm[d]]) {
                throw n.fail("perm " + Arrays.toString(perm) + " is not a permutation");
            }
            seen[(int) perm[d]] = true;
            out[d] = x.shape[(int) perm[d]];
            outStrides[d] = strides[(int) perm[d]];
        }
        int slot = n.out(0, x.type, out);
        n.kernel(Kernels.move(new int[] {x.slot}, slot, null, strided(n, out, 0, outStrides)));
    }

    // ---------------------------------------------------------------- linear algebra

    private static void gemm(Node n) {
        Value a = n.in(0);
        Value b = n.in(1);
        Value c = n.opt(2);
        requireType(n, a, DType.FLOAT);
        requireType(n, b, DType.FLOAT);
        float alpha = n.attrFloat("alpha", 1f);
        float beta = n.attrFloat("beta", 1f);
        boolean transA = n.attrInt("transA", 0) != 0;
        boolean transB = n.attrInt("transB", 0) != 0;
        if (a.rank() != 2 || b.rank() != 2) {
            throw n.fail("inputs must be matrices, got " + Shapes.str(a.shape) + " and " + Shapes.str(b.shape));
        }
        int m = transA ? a.shape[1] : a.shape[0];
        int k = transA ? a.shape[0] : a.shape[1];
        int kb = transB ? b.shape[1] : b.shape[0];
        int nn = transB ? b.shape[0] : b.shape[1];
        if (k != kb) {
            throw n.fail("inner dimensions differ: A is " + Shapes.str(a.shape) + (transA ? " (transposed)" : "")
                    + ", B is " + Shapes.str(b.shape) + (transB ? " (transposed)" : ""));
        }
        int[] outShape = {m, nn};
        float[] bias = null;
        boolean biasIsRow = false;
        int biasSlot = -1;
        int[] biasMap = null;
        if (c != null) {
            requireType(n, c, DType.FLOAT);
            int[] bc = Shapes.broadcast(c.shape, outShape);
            if (!Arrays.equals(bc, outShape)) {
                throw n.fail("C of shape " + Shapes.str(c.shape) + " does not broadcast to " + Shapes.str(outShape));
            }
            if (c.constant) {
                float[] cv = (float[]) n.data(c);
                int[] rowShape = {1, nn};
                biasIsRow = Arrays.equals(Shapes.broadcast(c.shape, rowShape), rowShape);
                int[] target = biasIsRow ? rowShape : outShape;
                int[] map = Shapes.broadcastIndex(c.shape, target);
                n.charge(2L * map.length);
                bias = new float[map.length];
                for (int i = 0; i < map.length; i++) {
                    bias[i] = beta * cv[map[i]];
                }
            } else {
                biasSlot = c.slot;
                n.charge(Shapes.size(outShape));
                biasMap = Shapes.broadcastIndex(c.shape, outShape);
            }
        }
        int out = n.out(0, DType.FLOAT, outShape);
        addGemm(n, a.slot, transA, m, k, nn, alpha, b, transB, bias, biasIsRow, biasSlot, biasMap, beta, out);
    }

    /** Adds a {@link Kernels.Gemm}, packing a constant B in the layout that suits the output width. */
    private static void addGemm(Node n, int aSlot, boolean transA, int m, int k, int nn, float alpha, Value b,
            boolean transB, float[] bias, boolean biasIsRow, int biasSlot, int[] biasMap, float beta, int out) {
        float[][] rows = null;
        float[][] cols = null;
        if (b.constant) {
            float[] w = (float[]) n.data(b);
            boolean narrow = nn < Kernels.NARROW;
            String key = (narrow ? "columns" : "rows") + (transB ? " of transpose" : "");
            float[][] packed = (float[][]) n.cache().get(w, key);
            if (packed == null) {
                n.charge(w.length);
                packed = narrow ? Kernels.packColumns(w, k, nn, transB) : Kernels.packRows(w, k, nn, transB);
                n.cache().put(w, key, packed);
            }
            rows = narrow ? null : packed;
            cols = narrow ? packed : null;
        }
        int aRow = m > 1 || transA ? n.temp(DType.FLOAT, new int[] {k}).slot : -1;
        int acc = m > 1 ? n.temp(DType.FLOAT, new int[] {nn}).slot : -1;
        n.kernel(new Kernels.Gemm(aSlot, transA, m, k, nn, alpha, rows, cols, b.slot, transB, bias, biasIsRow, biasSlot,
                biasMap, beta, out, aRow, acc, Kernels.IDENTITY));
    }

    private static void matmul(Node n) {
        Value a = n.in(0);
        Value b = n.in(1);
        sameType(n, a, b);
        requireType(n, a, DType.FLOAT, DType.INT64);
        if (a.rank() == 0 || b.rank() == 0) {
            throw n.fail("MatMul needs inputs of rank at least 1");
        }
        boolean aVector = a.rank() == 1;
        boolean bVector = b.rank() == 1;
        int m = aVector ? 1 : a.shape[a.rank() - 2];
        int k = a.shape[a.rank() - 1];
        int kb = bVector ? b.shape[0] : b.shape[b.rank() - 2];
        int nn = bVector ? 1 : b.shape[b.rank() - 1];
        if (k != kb) {
            throw n.fail("inner dimensions differ: " + Shapes.str(a.shape) + " x " + Shapes.str(b.shape));
        }
        int[] aBatch = Arrays.copyOf(a.shape, Math.max(0, a.rank() - 2));
        int[] bBatch = Arrays.copyOf(b.shape, Math.max(0, b.rank() - 2));
        int[] batch = Shapes.broadcast(aBatch, bBatch);
        int[] outShape = new int[batch.length + (aVector ? 0 : 1) + (bVector ? 0 : 1)];
        System.arraycopy(batch, 0, outShape, 0, batch.length);
        int p = batch.length;
        if (!aVector) {
            outShape[p++] = m;
        }
        if (!bVector) {
            outShape[p] = nn;
        }
        int out = n.out(0, a.type, outShape);
        if (a.type == DType.FLOAT && bBatch.length == 0 && !bVector) {
            // One [K,N] matrix for all of A's rows: the Gemm kernel with A viewed as [rows, K].
            addGemm(n, a.slot, false, m * Shapes.size(aBatch), k, nn, 1f, b, false, null, false, -1, null, 1f, out);
            return;
        }
        int[] aOffsets;
        int[] bOffsets;
        int rows = m;
        if (bBatch.length == 0) {
            // One B for everything: stack all of A's rows into one [rows, K] matrix.
            rows = m * Shapes.size(aBatch);
            aOffsets = new int[] {0};
            bOffsets = new int[] {0};
        } else {
            int count = Shapes.size(batch);
            n.charge(4L * count);
            int[] am = Shapes.broadcastIndex(aBatch, batch);
            int[] bm = Shapes.broadcastIndex(bBatch, batch);
            aOffsets = new int[count];
            bOffsets = new int[count];
            for (int t = 0; t < count; t++) {
                aOffsets[t] = am[t] * m * k;
                bOffsets[t] = bm[t] * k * nn;
            }
        }
        n.kernel(new Kernels.MatMul(a.type == DType.FLOAT, a.slot, b.slot, out, rows, k, nn, aOffsets, bOffsets));
    }

    // ---------------------------------------------------------------- normalisation and reductions

    private static void softmax(Node n, boolean log) {
        Value x = n.in(0);
        requireType(n, x, DType.FLOAT);
        int rank = x.rank();
        if (rank == 0) {
            throw n.fail("needs an input of rank at least 1");
        }
        int outer;
        int len;
        int inner;
        if (n.opset() < 13) {
            int axis = Shapes.axis(n.attrInt("axis", 1), rank, "axis");
            outer = Shapes.product(x.shape, 0, axis);
            len = Shapes.product(x.shape, axis, rank);
            inner = 1;
        } else {
            int axis = Shapes.axis(n.attrInt("axis", -1), rank, "axis");
            outer = Shapes.product(x.shape, 0, axis);
            len = x.shape[axis];
            inner = Shapes.product(x.shape, axis + 1, rank);
        }
        int out = n.out(0, DType.FLOAT, x.shape);
        n.kernel(new Kernels.Softmax(x.slot, out, outer, len, inner, log));
    }

    private static void layerNorm(Node n) {
        Value x = n.in(0);
        Value scale = n.in(1);
        Value bias = n.opt(2);
        requireType(n, x, DType.FLOAT);
        requireType(n, scale, DType.FLOAT);
        int rank = x.rank();
        int axis = Shapes.axis(n.attrInt("axis", -1), rank, "axis");
        float epsilon = n.attrFloat("epsilon", 1e-5f);
        if (n.attrInt("stash_type", 1) != 1) {
            throw n.fail("stash_type other than 1 (float) is not supported");
        }
        int[] norm = Arrays.copyOfRange(x.shape, axis, rank);
        int[] scaleMap = normMap(n, scale, norm);
        int[] biasMap = null;
        if (bias != null) {
            requireType(n, bias, DType.FLOAT);
            biasMap = normMap(n, bias, norm);
        }
        int out = n.out(0, DType.FLOAT, x.shape);
        n.kernel(new Kernels.LayerNorm(x.slot, out, Shapes.product(x.shape, 0, axis), Shapes.size(norm), epsilon,
                scale.slot, scaleMap, bias == null ? -1 : bias.slot, biasMap));
    }

    private static int[] normMap(Node n, Value v, int[] norm) {
        if (!Arrays.equals(Shapes.broadcast(v.shape, norm), norm)) {
            throw n.fail("'" + v.name + "' of shape " + Shapes.str(v.shape) + " does not broadcast to the normalised shape "
                    + Shapes.str(norm));
        }
        n.charge(Shapes.size(norm));
        return Shapes.broadcastIndex(v.shape, norm);
    }

    private static void reduce(Node n, int op) {
        Value x = n.in(0);
        requireType(n, x, op == Kernels.R_MEAN ? new DType[] {DType.FLOAT} : new DType[] {DType.FLOAT, DType.INT64});
        int rank = x.rank();
        boolean inputAxes = n.opset() >= (op == Kernels.R_SUM ? 13 : 18);
        long[] axes = axesAttrOrInput(n, 1, op == Kernels.R_SUM ? 13 : 18);
        boolean keepDims = n.attrInt("keepdims", 1) != 0;
        boolean noop = inputAxes && n.attrInt("noop_with_empty_axes", 0) != 0;
        boolean[] reduced = new boolean[rank];
        if (axes == null || axes.length == 0) {
            if (noop) {
                n.alias(0, x, x.shape);
                return;
            }
            Arrays.fill(reduced, true);
        } else {
            for (long a : axes) {
                reduced[Shapes.axis(a, rank, "axis")] = true;
            }
        }
        int[] kept = new int[rank];
        int count = 1;
        for (int d = 0; d < rank; d++) {
            kept[d] = reduced[d] ? 1 : x.shape[d];
            count *= reduced[d] ? x.shape[d] : 1;
        }
        int[] outStrides = Shapes.strides(kept);
        int[] strides = new int[rank];
        for (int d = 0; d < rank; d++) {
            strides[d] = reduced[d] ? 0 : outStrides[d];
        }
        int[] map = strided(n, x.shape, 0, strides);
        int[] outShape = kept;
        if (!keepDims) {
            int[] s = new int[rank];
            int k = 0;
            for (int d = 0; d < rank; d++) {
                if (!reduced[d]) {
                    s[k++] = x.shape[d];
                }
            }
            outShape = Arrays.copyOf(s, k);
        }
        int out = n.out(0, x.type, outShape);
        n.kernel(new Kernels.Reduce(op, x.slot, out, map, count));
    }

    private static void argExtreme(Node n, boolean max) {
        Value x = n.in(0);
        requireType(n, x, DType.FLOAT, DType.INT64);
        int rank = x.rank();
        int axis = Shapes.axis(n.attrInt("axis", 0), rank, "axis");
        boolean keepDims = n.attrInt("keepdims", 1) != 0;
        boolean last = n.opset() >= 12 && n.attrInt("select_last_index", 0) != 0;
        if (x.shape[axis] == 0) {
            throw n.fail("cannot take the arg" + (max ? "max" : "min") + " of an empty dimension");
        }
        int[] outShape;
        if (keepDims) {
            outShape = x.shape.clone();
            outShape[axis] = 1;
        } else {
            outShape = new int[rank - 1];
            System.arraycopy(x.shape, 0, outShape, 0, axis);
            System.arraycopy(x.shape, axis + 1, outShape, axis, rank - axis - 1);
        }
        int out = n.out(0, DType.INT64, outShape);
        n.kernel(new Kernels.ArgExtreme(x.slot, out, Shapes.product(x.shape, 0, axis), x.shape[axis],
                Shapes.product(x.shape, axis + 1, rank), max, last));
    }
}
