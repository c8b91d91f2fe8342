package com.alpyperl.policy;

/**
 * The run-time steps of an execution plan. A kernel reads its inputs from and writes its outputs
 * to the slots of a workspace ({@code Object[]} of {@code float[]}, {@code long[]} or
 * {@code double[]}); slot numbers and every size are fixed when the plan is built, so the loops
 * below do no lookups and no allocation. Kernels never write to their input slots, and every
 * output slot belongs to exactly one kernel.
 */
final class Kernels {

    private Kernels() {
    }

    /** One step of a plan. Implementations are immutable and safe to share between threads. */
    interface Kernel {
        void run(Object[] slots);
    }

    // ---------------------------------------------------------------- activations and unary math

    static final int TANH = 0;
    static final int RELU = 1;
    static final int SIGMOID = 2;
    static final int EXP = 3;
    static final int LOG = 4;
    static final int NEG = 5;
    static final int ABS = 6;
    static final int SQRT = 7;
    static final int RECIPROCAL = 8;
    static final int SOFTPLUS = 9;
    static final int ELU = 10;
    static final int LEAKY_RELU = 11;
    static final int SELU = 12;
    static final int HARD_SIGMOID = 13;
    static final int HARD_SWISH = 14;
    static final int ERF = 15;
    static final int GELU = 16;
    static final int GELU_TANH = 17;
    static final int FLOOR = 18;
    static final int CEIL = 19;
    static final int SOFTSIGN = 20;
    static final int IDENTITY = 21;

    // tanh(x) = x * P(s) / Q(s) with s = x^2/81 on [-9, 9] (beyond, tanh rounds to +-1 in float).
    // Coefficients fitted for this evaluator (weighted least squares iterated towards minimax
    // relative error, 6.6e-9 in exact arithmetic); evaluated in float the error is below 4e-7,
    // as with onnxruntime's own vectorised tanh (3.3e-7). Only +, *, / and min/max: C2
    // vectorises the loop, which makes tanh ~25 times faster than Math.tanh or Math.exp.
    private static final float TANH_P0 = 0.9999999933920932f;
    private static final float TANH_P1 = 10.59804660140787f;
    private static final float TANH_P2 = 20.365042209348353f;
    private static final float TANH_P3 = 5.927843957727058f;
    private static final float TANH_P4 = -0.8706252297801864f;
    private static final float TANH_P5 = 0.18402887250574448f;
    private static final float TANH_P6 = -0.023974234503871778f;
    private static final float TANH_Q1 = 37.598041554942704f;
    private static final float TANH_Q2 = 160.7128082629742f;
    private static final float TANH_Q3 = 135.31242211772394f;

    /** tanh of every element, to within 4e-7 and never beyond [-1, 1] (see the coefficients above). */
    static void tanh(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            float v = Math.max(-9f, Math.min(9f, x[i]));
            float s = v * v * (1f / 81f);
            float p = (((((TANH_P6 * s + TANH_P5) * s + TANH_P4) * s + TANH_P3) * s + TANH_P2) * s + TANH_P1) * s + TANH_P0;
            float q = ((TANH_Q3 * s + TANH_Q2) * s + TANH_Q1) * s + 1f;
            y[i] = Math.max(-1f, Math.min(1f, v * p / q));
        }
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
    }

    /** The error function, accurate to about 1e-15 (power series near 0, continued fraction beyond). */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (Double.isNaN(x)) {
            return x;
        }
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = ax;
            double sum = ax;
            double x2 = ax * ax;
            for (int n = 1; n < 60; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            double r = sum * 1.1283791670955126;
            return x < 0 ? -r : r;
        }
        if (ax > 6.5) {
            return x < 0 ? -1.0 : 1.0;
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        double f = ax;
        for (int k = 80; k >= 1; k--) {
            f = ax + (k / 2.0) / f;
        }
        double erfc = Math.exp(-ax * ax) / (f * 1.7724538509055159);
        return x < 0 ? erfc - 1.0 : 1.0 - erfc;
    }

    /** Applies a float function element by element: {@code out[i] = f(in[i])}. */
    static final class Unary implements Kernel {
        final int op;
        final int in;
        final int out;
        final int n;
        final float alpha;
        final float beta;
        final float gamma;

        Unary(int op, int in, int out, int n, float alpha, float beta, float gamma) {
            this.op = op;
            this.in = in;
            this.out = out;
            this.n = n;
            this.alpha = alpha;
            this.beta = beta;
            this.gamma = gamma;
        }

        @Override
        public void run(Object[] slots) {
            apply(op, (float[]) slots[in], (float[]) slots[out], n, alpha, beta, gamma);
        }
    }

    /**
     * Writes {@code f(x[i])} to {@code y[i]} for {@code i < n}; x and y may be the same array. (No
     * offsets: C2 vectorises these loops only when both arrays are indexed alike.)
     */
    static void apply(int op, float[] x, float[] y, int n, float alpha, float beta, float gamma) {
        switch (op) {
            case TANH:
                tanh(x, y, n);
                break;
            case RELU:
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = v < 0f ? 0f : v;
                }
                break;
            case SIGMOID:
                for (int i = 0; i < n; i++) {
                    y[i] = sigmoid(x[i]);
                }
                break;
            case EXP:
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.exp(x[i]);
                }
                break;
            case LOG:
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.log(x[i]);
                }
                break;
            case NEG:
                for (int i = 0; i < n; i++) {
                    y[i] = -x[i];
                }
                break;
            case ABS:
                for (int i = 0; i < n; i++) {
                    y[i] = Math.abs(x[i]);
                }
                break;
            case SQRT:
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.sqrt(x[i]);
                }
                break;
            case RECIPROCAL:
                for (int i = 0; i < n; i++) {
                    y[i] = 1f / x[i];
                }
                break;
            case SOFTPLUS:
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    y[i] = (float) (v > 30 ? v : Math.log1p(Math.exp(v)));
                }
                break;
            case ELU:
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = v >= 0f ? v : (float) (alpha * Math.expm1(v));
                }
                break;
            case LEAKY_RELU:
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = v >= 0f ? v : alpha * v;
                }
                break;
            case SELU:
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = v > 0f ? gamma * v : (float) (gamma * (alpha * Math.expm1(v)));
                }
                break;
            case HARD_SIGMOID:
                for (int i = 0; i < n; i++) {
                    y[i] = Math.max(0f, Math.min(1f, alpha * x[i] + beta));
                }
                break;
            case HARD_SWISH:
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = v * Math.max(0f, Math.min(1f, v / 6f + 0.5f));
                }
                break;
            case ERF:
                for (int i = 0; i < n; i++) {
                    y[i] = (float) erf(x[i]);
                }
                break;
            case GELU:
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    y[i] = (float) (0.5 * v * (1.0 + erf(v * 0.7071067811865476)));
                }
                break;
            case GELU_TANH:
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    y[i] = (float) (0.5 * v * (1.0 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
                }
                break;
            case FLOOR:
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.floor(x[i]);
                }
                break;
            case CEIL:
                for (int i = 0; i < n; i++) {
                    y[i] = (float) Math.ceil(x[i]);
                }
                break;
            case SOFTSIGN:
                for (int i = 0; i < n; i++) {
                    float v = x[i];
                    y[i] = v / (1f + Math.abs(v));
                }
                break;
            case IDENTITY:
                if (x != y) {
                    System.arraycopy(x, 0, y, 0, n);
                }
                break;
            default:
                throw new IllegalStateException("unknown unary op " + op);
        }
    }

    /** Integer negation or absolute value. */
    static final class UnaryLong implements Kernel {
        final boolean negate;
        final int in;
        final int out;

        UnaryLong(boolean negate, int in, int out) {
            this.negate = negate;
            this.in = in;
            this.out = out;
        }

        @Override
        public void run(Object[] slots) {
            long[] x = (long[]) slots[in];
            long[] y = (long[]) slots[out];
            for (int i = 0; i < y.length; i++) {
                y[i] = negate ? -x[i] : Math.abs(x[i]);
            }
        }
    }

    // ---------------------------------------------------------------- broadcasting binary ops

    static final int ADD = 0;
    static final int SUB = 1;
    static final int MUL = 2;
    static final int DIV = 3;
    static final int POW = 4;
    static final int MAX = 5;
    static final int MIN = 6;

    static float apply(int op, float a, float b) {
        switch (op) {
            case ADD:
                return a + b;
            case SUB:
                return a - b;
            case MUL:
                return a * b;
            case DIV:
                return a / b;
            case POW:
                return b == 2f ? a * a : (float) Math.pow(a, b);
            case MAX:
                return Math.max(a, b);
            default:
                return Math.min(a, b);
        }
    }

    static long apply(int op, long a, long b) {
        switch (op) {
            case ADD:
                return a + b;
            case SUB:
                return a - b;
            case MUL:
                return a * b;
            case DIV:
                if (b == 0) {
                    throw new ArithmeticException("integer division by zero");
                }
                return a / b;
            case MAX:
                return Math.max(a, b);
            case MIN:
                return Math.min(a, b);
            default:
                throw new ArithmeticException("integer Pow is not supported");
        }
    }

    /**
     * {@code out = a op b} with numpy broadcasting. A null index map means the operand has the
     * output's shape; otherwise {@code mapX[i]} is the element of X that output element i reads.
     */
    static final class Binary implements Kernel {
        final int op;
        final int a;
        final int b;
        final int out;
        final int n;
        final int[] mapA;
        final int[] mapB;
        final boolean isFloat;

        Binary(int op, boolean isFloat, int a, int b, int out, int n, int[] mapA, int[] mapB) {
            this.op = op;
            this.isFloat = isFloat;
            this.a = a;
            this.b = b;
            this.out = out;
            this.n = n;
            this.mapA = mapA;
            this.mapB = mapB;
        }

        @Override
        public void run(Object[] slots) {
            if (isFloat) {
                runFloat((float[]) slots[a], (float[]) slots[b], (float[]) slots[out]);
            } else {
                long[] x = (long[]) slots[a];
                long[] y = (long[]) slots[b];
                long[] z = (long[]) slots[out];
                for (int i = 0; i < n; i++) {
                    z[i] = apply(op, x[mapA == null ? i : mapA[i]], y[mapB == null ? i : mapB[i]]);
                }
            }
        }

        private void runFloat(float[] x, float[] y, float[] z) {
            if (mapA == null && mapB == null) {
                switch (op) {
                    case ADD:
                        for (int i = 0; i < n; i++) {
                            z[i] = x[i] + y[i];
                        }
                        return;
                    case MUL:
                        for (int i = 0; i < n; i++) {
                            z[i] = x[i] * y[i];
                        }
                        return;
                    default:
                        for (int i = 0; i < n; i++) {
                            z[i] = apply(op, x[i], y[i]);
                        }
                        return;
                }
            }
            if (mapA == null) {
                for (int i = 0; i < n; i++) {
                    z[i] = apply(op, x[i], y[mapB[i]]);
                }
            } else if (mapB == null) {
                for (int i = 0; i < n; i++) {
                    z[i] = apply(op, x[mapA[i]], y[i]);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    z[i] = apply(op, x[mapA[i]], y[mapB[i]]);
                }
            }
        }
    }

    /** Clamps every element to [min, max] (float bounds for float data, long bounds for integers). */
    static final class Clip implements Kernel {
        final int in;
        final int out;
        final float min;
        final float max;
        final long minLong;
        final long maxLong;

        Clip(int in, int out, float min, float max, long minLong, long maxLong) {
            this.in = in;
            this.out = out;
            this.min = min;
            this.max = max;
            this.minLong = minLong;
            this.maxLong = maxLong;
        }

        @Override
        public void run(Object[] slots) {
            Object x = slots[in];
            if (x instanceof float[]) {
                float[] s = (float[]) x;
                float[] d = (float[]) slots[out];
                for (int i = 0; i < d.length; i++) {
                    float v = s[i];
                    d[i] = v < min ? min : (v > max ? max : v);
                }
            } else {
                long[] s = (long[]) x;
                long[] d = (long[]) slots[out];
                for (int i = 0; i < d.length; i++) {
                    d[i] = Math.min(Math.max(s[i], minLong), maxLong);
                }
            }
        }
    }

    // ---------------------------------------------------------------- matrix products

    /**
     * {@code Y[M,N] = alpha * A·B + bias}, optionally followed by an activation (fused from the
     * node that follows). A constant B is packed once, at load time, in the layout that suits its
     * shape: as K rows of N floats for wide outputs (each output row accumulates
     * {@code acc[j] += a_k * row_k[j]}, four rows of B per pass) or as N columns of K floats for
     * narrow ones (one dot product per output). Every inner loop indexes its arrays from 0, which
     * is what lets C2 vectorise it (it does not vectorise {@code y[j] += s * w[off + j]}, as it
     * cannot rule out that y and w are the same array).
     */
    static final class Gemm implements Kernel {
        final int a;
        final boolean transA;
        final int m;
        final int k;
        final int n;
        final float alpha;
        /** B as K rows of N (wide outputs), or null. */
        final float[][] rows;
        /** B as N columns of K (narrow outputs), or null. */
        final float[][] cols;
        /** B's slot when it is computed at run time (then rows and cols are null). */
        final int bSlot;
        final boolean transB;
        final float[] bias;
        final boolean biasIsRow;
        final int biasSlot;
        final int[] biasMap;
        final float beta;
        final int out;
        /** Scratch slots for one row of A (K floats) and one output row (N floats); -1 if unused. */
        final int aRowSlot;
        final int accSlot;
        final int activation;

        Gemm(int a, boolean transA, int m, int k, int n, float alpha, float[][] rows, float[][] cols, int bSlot,
                boolean transB, float[] bias, boolean biasIsRow, int biasSlot, int[] biasMap, float beta, int out,
                int aRowSlot, int accSlot, int activation) {
            this.a = a;
            this.transA = transA;
            this.m = m;
            this.k = k;
            this.n = n;
            this.alpha = alpha;
            this.rows = rows;
            this.cols = cols;
            this.bSlot = bSlot;
            this.transB = transB;
            this.bias = bias;
            this.biasIsRow = biasIsRow;
            this.biasSlot = biasSlot;
            this.biasMap = biasMap;
            this.beta = beta;
            this.out = out;
            this.aRowSlot = aRowSlot;
            this.accSlot = accSlot;
            this.activation = activation;
        }

        Gemm withActivation(int act) {
            return new Gemm(a, transA, m, k, n, alpha, rows, cols, bSlot, transB, bias, biasIsRow, biasSlot, biasMap, beta,
                    out, aRowSlot, accSlot, act);
        }

        @Override
        public void run(Object[] slots) {
            float[] x = (float[]) slots[a];
            float[] y = (float[]) slots[out];
            float[] acc = accSlot < 0 ? y : (float[]) slots[accSlot];
            float[] xr = aRowSlot < 0 ? x : (float[]) slots[aRowSlot];
            float[] c = biasSlot >= 0 ? (float[]) slots[biasSlot] : null;
            for (int row = 0; row < m; row++) {
                int yo = row * n;
                if (xr != x) {
                    for (int kk = 0; kk < k; kk++) {
                        xr[kk] = transA ? x[kk * m + row] : x[row * k + kk];
                    }
                }
                if (bias != null) {
                    System.arraycopy(bias, biasIsRow ? 0 : yo, acc, 0, n);
                } else if (c != null) {
                    for (int j = 0; j < n; j++) {
                        acc[j] = beta * c[biasMap[yo + j]];
                    }
                } else {
                    java.util.Arrays.fill(acc, 0, n, 0f);
                }
                if (rows != null) {
                    accumulateRows(xr, acc);
                } else if (cols != null) {
                    accumulateDots(xr, acc);
                } else {
                    accumulate(xr, (float[]) slots[bSlot], acc);
                }
                if (activation != IDENTITY) {
                    apply(activation, acc, acc, n, 0f, 0f, 0f);
                }
                if (acc != y) {
                    System.arraycopy(acc, 0, y, yo, n);
                }
            }
        }

        private void accumulateRows(float[] x, float[] acc) {
            int kk = 0;
            for (; kk + 4 <= k; kk += 4) {
                axpy4(alpha * x[kk], rows[kk], alpha * x[kk + 1], rows[kk + 1], alpha * x[kk + 2], rows[kk + 2],
                        alpha * x[kk + 3], rows[kk + 3], acc, n);
            }
            for (; kk < k; kk++) {
                axpy(alpha * x[kk], rows[kk], acc, n);
            }
        }

        private void accumulateDots(float[] x, float[] acc) {
            for (int j = 0; j < n; j++) {
                acc[j] += alpha * dot(x, cols[j], k);
            }
        }

        private void accumulate(float[] x, float[] w, float[] acc) {
            for (int kk = 0; kk < k; kk++) {
                float s = alpha * x[kk];
                for (int j = 0; j < n; j++) {
                    acc[j] += s * (transB ? w[j * k + kk] : w[kk * n + j]);
                }
            }
        }
    }

    /** {@code y[j] += s * x[j]} for {@code j < n}. */
    static void axpy(float s, float[] x, float[] y, int n) {
        for (int j = 0; j < n; j++) {
            y[j] += s * x[j];
        }
    }

    /** {@code y[j] += s0*x0[j] + s1*x1[j] + s2*x2[j] + s3*x3[j]}: a quarter of the loads and stores of y. */
    static void axpy4(float s0, float[] x0, float s1, float[] x1, float s2, float[] x2, float s3, float[] x3, float[] y,
            int n) {
        for (int j = 0; j < n; j++) {
            y[j] += s0 * x0[j] + s1 * x1[j] + s2 * x2[j] + s3 * x3[j];
        }
    }

    /** The dot product of the first n elements, with four partial sums. */
    static float dot(float[] x, float[] w, int n) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += x[i] * w[i];
            s1 += x[i + 1] * w[i + 1];
            s2 += x[i + 2] * w[i + 2];
            s3 += x[i + 3] * w[i + 3];
        }
        for (; i < n; i++) {
            s0 += x[i] * w[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** Outputs narrower than this use the dot-product layout of B. */
    static final int NARROW = 16;

    /** Splits a row-major [K,N] matrix (or the transpose of a row-major [N,K] one) into K rows of N. */
    static float[][] packRows(float[] w, int k, int n, boolean transposed) {
        float[][] rows = new float[k][n];
        for (int kk = 0; kk < k; kk++) {
            for (int j = 0; j < n; j++) {
                rows[kk][j] = transposed ? w[j * k + kk] : w[kk * n + j];
            }
        }
        return rows;
    }

    /** Splits a row-major [K,N] matrix (or the transpose of a row-major [N,K] one) into N columns of K. */
    static float[][] packColumns(float[] w, int k, int n, boolean transposed) {
        float[][] cols = new float[n][k];
        for (int j = 0; j < n; j++) {
            for (int kk = 0; kk < k; kk++) {
                cols[j][kk] = transposed ? w[j * k + kk] : w[kk * n + j];
            }
        }
        return cols;
    }

    /**
     * Batched matrix product {@code Y[t] = A[t]·B[t]} over {@code batches} pairs of [M,K]·[K,N]
     * matrices, whose offsets are precomputed from the broadcast batch dimensions.
     */
    static final class MatMul implements Kernel {
        final int a;
        final int b;
        final int out;
        final int m;
        final int k;
        final int n;
        final int[] aOffsets;
        final int[] bOffsets;
        final boolean isFloat;

        MatMul(boolean isFloat, int a, int b, int out, int m, int k, int n, int[] aOffsets, int[] bOffsets) {
            this.isFloat = isFloat;
            this.a = a;
            this.b = b;
            this.out = out;
            this.m = m;
            this.k = k;
            this.n = n;
            this.aOffsets = aOffsets;
            this.bOffsets = bOffsets;
        }

        @Override
        public void run(Object[] slots) {
            if (!isFloat) {
                runLong((long[]) slots[a], (long[]) slots[b], (long[]) slots[out]);
                return;
            }
            float[] x = (float[]) slots[a];
            float[] w = (float[]) slots[b];
            float[] y = (float[]) slots[out];
            final int n = this.n;
            for (int t = 0; t < aOffsets.length; t++) {
                int ao = aOffsets[t];
                int bo = bOffsets[t];
                int yBase = t * m * n;
                for (int row = 0; row < m; row++) {
                    int yo = yBase + row * n;
                    java.util.Arrays.fill(y, yo, yo + n, 0f);
                    for (int kk = 0; kk < k; kk++) {
                        float s = x[ao + row * k + kk];
                        int wo = bo + kk * n;
                        for (int j = 0; j < n; j++) {
                            y[yo + j] += s * w[wo + j];
                        }
                    }
                }
            }
        }

        private void runLong(long[] x, long[] w, long[] y) {
            for (int t = 0; t < aOffsets.length; t++) {
                for (int row = 0; row < m; row++) {
                    for (int j = 0; j < n; j++) {
                        long acc = 0;
                        for (int kk = 0; kk < k; kk++) {
                            acc += x[aOffsets[t] + row * k + kk] * w[bOffsets[t] + kk * n + j];
                        }
                        y[t * m * n + row * n + j] = acc;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- normalisations and reductions

    /** Softmax or log-softmax over the middle axis of an [outer, len, inner] view. */
    static final class Softmax implements Kernel {
        final int in;
        final int out;
        final int outer;
        final int len;
        final int inner;
        final boolean log;

        Softmax(int in, int out, int outer, int len, int inner, boolean log) {
            this.in = in;
            this.out = out;
            this.outer = outer;
            this.len = len;
            this.inner = inner;
            this.log = log;
        }

        @Override
        public void run(Object[] slots) {
            float[] x = (float[]) slots[in];
            float[] y = (float[]) slots[out];
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int base = o * len * inner + i;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        max = Math.max(max, x[base + j * inner]);
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) {
                        sum += Math.exp(x[base + j * inner] - max);
                    }
                    if (log) {
                        double logSum = Math.log(sum);
                        for (int j = 0; j < len; j++) {
                            y[base + j * inner] = (float) (x[base + j * inner] - max - logSum);
                        }
                    } else {
                        for (int j = 0; j < len; j++) {
                            y[base + j * inner] = (float) (Math.exp(x[base + j * inner] - max) / sum);
                        }
                    }
                }
            }
        }
    }

    /** Layer normalisation of each row of an [outer, len] view, with scale and bias. */
    static final class LayerNorm implements Kernel {
        final int in;
        final int out;
        final int outer;
        final int len;
        final float epsilon;
        final int scale;
        final int[] scaleMap;
        final int bias;
        final int[] biasMap;

        LayerNorm(int in, int out, int outer, int len, float epsilon, int scale, int[] scaleMap, int bias, int[] biasMap) {
            this.in = in;
            this.out = out;
            this.outer = outer;
            this.len = len;
            this.epsilon = epsilon;
            this.scale = scale;
            this.scaleMap = scaleMap;
            this.bias = bias;
            this.biasMap = biasMap;
        }

        @Override
        public void run(Object[] slots) {
            float[] x = (float[]) slots[in];
            float[] y = (float[]) slots[out];
            float[] g = (float[]) slots[scale];
            float[] b = bias >= 0 ? (float[]) slots[bias] : null;
            for (int o = 0; o < outer; o++) {
                int base = o * len;
                double mean = 0;
                for (int j = 0; j < len; j++) {
                    mean += x[base + j];
                }
                mean /= len;
                double var = 0;
                for (int j = 0; j < len; j++) {
                    double d = x[base + j] - mean;
                    var += d * d;
                }
                var /= len;
                double inv = 1.0 / Math.sqrt(var + epsilon);
                for (int j = 0; j < len; j++) {
                    double v = (x[base + j] - mean) * inv * g[scaleMap[j]];
                    if (b != null) {
                        v += b[biasMap[j]];
                    }
                    y[base + j] = (float) v;
                }
            }
        }
    }

    static final int R_SUM = 0;
    static final int R_MEAN = 1;
    static final int R_MAX = 2;
    static final int R_MIN = 3;
    static final int R_PROD = 4;

    /** A reduction: input element i contributes to output element {@code map[i]}. */
    static final class Reduce implements Kernel {
        final int op;
        final int in;
        final int out;
        final int[] map;
        final int count;

        Reduce(int op, int in, int out, int[] map, int count) {
            this.op = op;
            this.in = in;
            this.out = out;
            this.map = map;
            this.count = count;
        }

        @Override
        public void run(Object[] slots) {
            if (slots[in] instanceof float[]) {
                float[] x = (float[]) slots[in];
                float[] y = (float[]) slots[out];
                float init = op == R_MAX ? Float.NEGATIVE_INFINITY : op == R_MIN ? Float.POSITIVE_INFINITY : op == R_PROD ? 1f : 0f;
                java.util.Arrays.fill(y, init);
                for (int i = 0; i < x.length; i++) {
                    int o = map[i];
                    switch (op) {
                        case R_MAX:
                            y[o] = Math.max(y[o], x[i]);
                            break;
                        case R_MIN:
                            y[o] = Math.min(y[o], x[i]);
                            break;
                        case R_PROD:
                            y[o] *= x[i];
                            break;
                        default:
                            y[o] += x[i];
                    }
                }
                if (op == R_MEAN) {
                    for (int o = 0; o < y.length; o++) {
                        y[o] /= count;
                    }
                }
            } else {
                long[] x = (long[]) slots[in];
                long[] y = (long[]) slots[out];
                long init = op == R_MAX ? Long.MIN_VALUE : op == R_MIN ? Long.MAX_VALUE : op == R_PROD ? 1 : 0;
                java.util.Arrays.fill(y, init);
                for (int i = 0; i < x.length; i++) {
                    int o = map[i];
                    switch (op) {
                        case R_MAX:
                            y[o] = Math.max(y[o], x[i]);
                            break;
                        case R_MIN:
                            y[o] = Math.min(y[o], x[i]);
                            break;
                        case R_PROD:
                            y[o] *= x[i];
                            break;
                        default:
                            y[o] += x[i];
                    }
                }
            }
        }
    }

    /** Index of the largest (or smallest) element along the middle axis of [outer, len, inner]. */
    static final class ArgExtreme implements Kernel {
        final int in;
        final int out;
        final int outer;
        final int len;
        final int inner;
        final boolean max;
        final boolean selectLast;

        ArgExtreme(int in, int out, int outer, int len, int inner, boolean max, boolean selectLast) {
            this.in = in;
            this.out = out;
            this.outer = outer;
            this.len = len;
            this.inner = inner;
            this.max = max;
            this.selectLast = selectLast;
        }

        @Override
        public void run(Object[] slots) {
            long[] y = (long[]) slots[out];
            Object x = slots[in];
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int base = o * len * inner + i;
                    int best = 0;
                    double bestValue = value(x, base);
                    for (int j = 1; j < len; j++) {
                        double v = value(x, base + j * inner);
                        boolean better = max ? (v > bestValue || (selectLast && v == bestValue))
                                : (v < bestValue || (selectLast && v == bestValue));
                        if (better) {
                            best = j;
                            bestValue = v;
                        }
                    }
                    y[o * inner + i] = best;
                }
            }
        }

        private static double value(Object x, int i) {
            return x instanceof float[] ? ((float[]) x)[i] : (double) ((long[]) x)[i];
        }
    }

    // ---------------------------------------------------------------- type conversion

    static final int CAST_PLAIN = 0;
    static final int CAST_INT32 = 1;
    static final int CAST_BOOL = 2;

    /** Element type conversion between float, double, integers (optionally wrapped to 32 bits) and booleans. */
    static final class Cast implements Kernel {
        final int in;
        final int out;
        final int mode;

        Cast(int in, int out, int mode) {
            this.in = in;
            this.out = out;
            this.mode = mode;
        }

        @Override
        public void run(Object[] slots) {
            Object x = slots[in];
            Object y = slots[out];
            int n = Tensor.length(y);
            for (int i = 0; i < n; i++) {
                double v = x instanceof float[] ? ((float[]) x)[i]
                        : x instanceof double[] ? ((double[]) x)[i] : Double.NaN;
                if (y instanceof float[]) {
                    ((float[]) y)[i] = x instanceof long[] ? (float) ((long[]) x)[i] : (float) v;
                } else if (y instanceof double[]) {
                    ((double[]) y)[i] = x instanceof long[] ? (double) ((long[]) x)[i] : v;
                } else if (mode == CAST_BOOL) {
                    ((long[]) y)[i] = (x instanceof long[] ? ((long[]) x)[i] != 0 : v != 0) ? 1 : 0;
                } else {
                    long l = x instanceof long[] ? ((long[]) x)[i] : (long) v;
                    ((long[]) y)[i] = mode == CAST_INT32 ? (int) l : l;
                }
            }
        }
    }

    // ---------------------------------------------------------------- comparisons and logic

    static final int EQUAL = 0;
    static final int LESS = 1;
    static final int GREATER = 2;
    static final int LESS_OR_EQUAL = 3;
    static final int GREATER_OR_EQUAL = 4;
    static final int AND = 5;
    static final int OR = 6;
    static final int XOR = 7;

    static boolean compare(int op, double a, double b) {
        switch (op) {
            case EQUAL:
                return a == b;
            case LESS:
                return a < b;
            case GREATER:
                return a > b;
            case LESS_OR_EQUAL:
                return a <= b;
            default:
                return a >= b;
        }
    }

    static boolean compare(int op, long a, long b) {
        switch (op) {
            case EQUAL:
                return a == b;
            case LESS:
                return a < b;
            case GREATER:
                return a > b;
            case LESS_OR_EQUAL:
                return a <= b;
            case GREATER_OR_EQUAL:
                return a >= b;
            case AND:
                return a != 0 && b != 0;
            case OR:
                return a != 0 || b != 0;
            default:
                return (a != 0) != (b != 0);
        }
    }

    /** A comparison or logical operation with broadcasting; the output is boolean (0 or 1). */
    static final class Compare implements Kernel {
        final int op;
        final int a;
        final int b;
        final int out;
        final int[] mapA;
        final int[] mapB;

        Compare(int op, int a, int b, int out, int[] mapA, int[] mapB) {
            this.op = op;
            this.a = a;
            this.b = b;
            this.out = out;
            this.mapA = mapA;
            this.mapB = mapB;
        }

        @Override
        public void run(Object[] slots) {
            long[] z = (long[]) slots[out];
            Object x = slots[a];
            Object y = slots[b];
            for (int i = 0; i < z.length; i++) {
                int ia = mapA == null ? i : mapA[i];
                int ib = mapB == null ? i : mapB[i];
                boolean r = x instanceof float[] ? compare(op, ((float[]) x)[ia], ((float[]) y)[ib])
                        : compare(op, ((long[]) x)[ia], ((long[]) y)[ib]);
                z[i] = r ? 1 : 0;
            }
        }
    }

    /** Boolean negation. */
    static final class Not implements Kernel {
        final int in;
        final int out;

        Not(int in, int out) {
            this.in = in;
            this.out = out;
        }

        @Override
        public void run(Object[] slots) {
            long[] x = (long[]) slots[in];
            long[] y = (long[]) slots[out];
            for (int i = 0; i < y.length; i++) {
                y[i] = x[i] != 0 ? 0 : 1;
            }
        }
    }

    /** {@code out = cond ? x : y} with broadcasting of all three. */
    static final class Where implements Kernel {
        final int cond;
        final int x;
        final int y;
        final int out;
        final int[] mapC;
        final int[] mapX;
        final int[] mapY;

        Where(int cond, int x, int y, int out, int[] mapC, int[] mapX, int[] mapY) {
            this.cond = cond;
            this.x = x;
            this.y = y;
            this.out = out;
            this.mapC = mapC;
            this.mapX = mapX;
            this.mapY = mapY;
        }

        @Override
        public void run(Object[] slots) {
            long[] c = (long[]) slots[cond];
            Object a = slots[x];
            Object b = slots[y];
            Object z = slots[out];
            int n = Tensor.length(z);
            for (int i = 0; i < n; i++) {
                boolean pick = c[mapC == null ? i : mapC[i]] != 0;
                int from = pick ? (mapX == null ? i : mapX[i]) : (mapY == null ? i : mapY[i]);
                Object src = pick ? a : b;
                if (z instanceof float[]) {
                    ((float[]) z)[i] = ((float[]) src)[from];
                } else {
                    ((long[]) z)[i] = ((long[]) src)[from];
                }
            }
        }
    }

    // ---------------------------------------------------------------- data movement

    /**
     * Copies runs of elements between slots of the same element type: run r copies
     * {@code runs[4r+3]} elements from source {@code sources[runs[4r]]} at {@code runs[4r+1]} to
     * the output at {@code runs[4r+2]}. Concat, Split, Slice, Gather, Expand, Tile and Transpose
     * all compile to this.
     */
    static final class Move implements Kernel {
        final int[] sources;
        final int out;
        final int[] runs;

        Move(int[] sources, int out, int[] runs) {
            this.sources = sources;
            this.out = out;
            this.runs = runs;
        }

        @Override
        public void run(Object[] slots) {
            Object dst = slots[out];
            for (int r = 0; r < runs.length; r += 4) {
                System.arraycopy(slots[sources[runs[r]]], runs[r + 1], dst, runs[r + 2], runs[r + 3]);
            }
        }
    }

    /** Element-wise gather {@code out[i] = in[index[i]]} (used when runs would be short). */
    static final class GatherElements implements Kernel {
        final int in;
        final int out;
        final int[] index;

        GatherElements(int in, int out, int[] index) {
            this.in = in;
            this.out = out;
            this.index = index;
        }

        @Override
        public void run(Object[] slots) {
            Object x = slots[in];
            Object y = slots[out];
            if (x instanceof float[]) {
                float[] s = (float[]) x;
                float[] d = (float[]) y;
                for (int i = 0; i < index.length; i++) {
                    d[i] = s[index[i]];
                }
            } else if (x instanceof long[]) {
                long[] s = (long[]) x;
                long[] d = (long[]) y;
                for (int i = 0; i < index.length; i++) {
                    d[i] = s[index[i]];
                }
            } else {
                double[] s = (double[]) x;
                double[] d = (double[]) y;
                for (int i = 0; i < index.length; i++) {
                    d[i] = s[index[i]];
                }
            }
        }
    }

    /**
     * Builds the cheapest data-movement kernel for an output whose element i comes from source
     * {@code which[i]} (or source 0 if {@code which} is null) at flat index {@code from[i]}.
     */
    static Kernel move(int[] sourceSlots, int out, int[] which, int[] from) {
        int n = from.length;
        int[] runs = new int[16];
        int count = 0;
        int i = 0;
        while (i < n) {
            int w = which == null ? 0 : which[i];
            int start = i;
            i++;
            while (i < n && (which == null ? 0 : which[i]) == w && from[i] == from[i - 1] + 1) {
                i++;
            }
            if (count + 4 > runs.length) {
                runs = java.util.Arrays.copyOf(runs, runs.length * 2);
            }
            runs[count++] = w;
            runs[count++] = from[start];
            runs[count++] = start;
            runs[count++] = i - start;
        }
        int nRuns = count / 4;
        if (which == null && nRuns > 8 && n < 4 * nRuns) {
            return new GatherElements(sourceSlots[0], out, from);
        }
        return new Move(sourceSlots, out, java.util.Arrays.copyOf(runs, count));
    }
}
