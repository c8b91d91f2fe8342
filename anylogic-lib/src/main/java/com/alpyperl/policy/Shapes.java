package com.alpyperl.policy;

import java.util.Arrays;

/** Shape arithmetic shared by the parser and the operators. */
final class Shapes {

    /**
     * The largest number of elements one tensor may have (2^24, 64 MB of floats). Anything
     * larger in a policy network means a corrupt or hostile file.
     */
    static final int MAX_ELEMENTS = 1 << 24;

    private Shapes() {
    }

    /** The number of elements of {@code shape}; fails if it exceeds {@link #MAX_ELEMENTS}. */
    static int size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new PlanException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > MAX_ELEMENTS) {
                throw new PlanException("a tensor of shape " + Arrays.toString(shape) + " exceeds the limit of "
                        + MAX_ELEMENTS + " elements");
            }
        }
        return (int) n;
    }

    /** The product of dims[from, to). */
    static int product(int[] dims, int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            n *= dims[i];
            if (n > MAX_ELEMENTS) {
                throw new PlanException("a tensor dimension product exceeds the limit of " + MAX_ELEMENTS + " elements");
            }
        }
        return (int) n;
    }

    /** Row-major strides of {@code shape}. */
    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Resolves a possibly negative axis against {@code rank}. */
    static int axis(long axis, int rank, String what) {
        if (axis < -rank || axis >= rank) {
            throw new PlanException(what + " " + axis + " is out of range for a tensor of rank " + rank);
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    /** The numpy-style broadcast of two shapes, or an error naming both. */
    static int[] broadcast(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da == db || db == 1) {
                out[i] = da;
            } else if (da == 1) {
                out[i] = db;
            } else {
                throw new PlanException("shapes " + str(a) + " and " + str(b) + " cannot be broadcast together");
            }
        }
        return out;
    }

    /**
     * For each element of {@code out} (a broadcast of {@code in}), the flat index of the element of
     * {@code in} it reads.
     */
    static int[] broadcastIndex(int[] in, int[] out) {
        int n = size(out);
        int rank = out.length;
        int[] inStrides = new int[rank];
        int[] s = strides(in);
        for (int i = 0; i < in.length; i++) {
            int o = i + rank - in.length;
            inStrides[o] = in[i] == 1 ? 0 : s[i];
        }
        int[] map = new int[n];
        int[] idx = new int[rank];
        int src = 0;
        for (int k = 0; k < n; k++) {
            map[k] = src;
            for (int d = rank - 1; d >= 0; d--) {
                idx[d]++;
                src += inStrides[d];
                if (idx[d] < out[d]) {
                    break;
                }
                src -= inStrides[d] * idx[d];
                idx[d] = 0;
            }
        }
        return map;
    }

    static String str(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Converts ONNX int64 dims to int dims, refusing negative or oversized ones. */
    static int[] toInts(long[] dims, String what) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > MAX_ELEMENTS) {
                throw new PlanException(what + " has an invalid dimension " + dims[i]);
            }
            out[i] = (int) dims[i];
        }
        return out;
    }
}
