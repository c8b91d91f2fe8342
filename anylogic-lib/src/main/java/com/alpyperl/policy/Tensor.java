package com.alpyperl.policy;

import java.util.Arrays;

/**
 * An immutable constant tensor: an initializer, a Constant node's value or a value folded at
 * load time. Integers of every width are held as 64-bit values; doubles only appear in constants
 * (they must be cast to float before reaching run-time operators).
 */
final class Tensor {

    /** The element types the evaluator works with. */
    enum DType {
        FLOAT, DOUBLE, INT64,
        /** Booleans, held as longs 0 and 1. */
        BOOL;
    }

    // ONNX TensorProto.DataType codes.
    static final int ONNX_FLOAT = 1;
    static final int ONNX_UINT8 = 2;
    static final int ONNX_INT8 = 3;
    static final int ONNX_UINT16 = 4;
    static final int ONNX_INT16 = 5;
    static final int ONNX_INT32 = 6;
    static final int ONNX_INT64 = 7;
    static final int ONNX_STRING = 8;
    static final int ONNX_BOOL = 9;
    static final int ONNX_FLOAT16 = 10;
    static final int ONNX_DOUBLE = 11;
    static final int ONNX_UINT32 = 12;
    static final int ONNX_UINT64 = 13;

    final DType type;
    final int[] shape;
    /** A {@code float[]}, {@code double[]} or {@code long[]} with {@code Shapes.size(shape)} elements. */
    final Object data;

    Tensor(DType type, int[] shape, Object data) {
        this.type = type;
        this.shape = shape.clone();
        this.data = data;
        int n = Shapes.size(shape);
        if (length(data) != n) {
            throw new IllegalArgumentException("tensor data of " + length(data) + " elements for shape " + Arrays.toString(shape));
        }
    }

    static Tensor ofFloats(int[] shape, float... values) {
        return new Tensor(DType.FLOAT, shape, values);
    }

    static Tensor ofLongs(int[] shape, long... values) {
        return new Tensor(DType.INT64, shape, values);
    }

    int size() {
        return length(data);
    }

    float[] floats() {
        return (float[]) data;
    }

    long[] longs() {
        return (long[]) data;
    }

    /** The element at flat index {@code i} as a double (any type). */
    double getDouble(int i) {
        switch (type) {
            case FLOAT:
                return ((float[]) data)[i];
            case DOUBLE:
                return ((double[]) data)[i];
            default:
                return ((long[]) data)[i];
        }
    }

    /** The name of an ONNX element type code, for messages. */
    static String onnxTypeName(int code) {
        switch (code) {
            case 0: return "UNDEFINED";
            case ONNX_FLOAT: return "FLOAT";
            case ONNX_UINT8: return "UINT8";
            case ONNX_INT8: return "INT8";
            case ONNX_UINT16: return "UINT16";
            case ONNX_INT16: return "INT16";
            case ONNX_INT32: return "INT32";
            case ONNX_INT64: return "INT64";
            case ONNX_STRING: return "STRING";
            case ONNX_BOOL: return "BOOL";
            case ONNX_FLOAT16: return "FLOAT16";
            case ONNX_DOUBLE: return "DOUBLE";
            case ONNX_UINT32: return "UINT32";
            case ONNX_UINT64: return "UINT64";
            case 14: return "COMPLEX64";
            case 15: return "COMPLEX128";
            case 16: return "BFLOAT16";
            default: return "type " + code;
        }
    }

    /** The evaluator's type for an ONNX element type code, or null if it is not supported. */
    static DType fromOnnx(int code) {
        switch (code) {
            case ONNX_FLOAT:
                return DType.FLOAT;
            case ONNX_DOUBLE:
                return DType.DOUBLE;
            case ONNX_INT64:
            case ONNX_INT32:
            case ONNX_INT16:
            case ONNX_INT8:
            case ONNX_UINT16:
            case ONNX_UINT8:
            case ONNX_UINT32:
                return DType.INT64;
            case ONNX_BOOL:
                return DType.BOOL;
            default:
                return null;
        }
    }

    static int length(Object array) {
        if (array instanceof float[]) {
            return ((float[]) array).length;
        } else if (array instanceof long[]) {
            return ((long[]) array).length;
        } else if (array instanceof double[]) {
            return ((double[]) array).length;
        }
        throw new IllegalArgumentException("not a tensor array: " + array);
    }

    /** A new zero-filled array of {@code n} elements of {@code type}. */
    static Object newArray(DType type, int n) {
        switch (type) {
            case FLOAT:
                return new float[n];
            case DOUBLE:
                return new double[n];
            default:
                return new long[n];
        }
    }

    @Override
    public String toString() {
        return type + Arrays.toString(shape);
    }
}
