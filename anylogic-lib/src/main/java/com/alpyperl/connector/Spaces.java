package com.alpyperl.connector;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds observation and action spaces in Java, for example
 * <pre>{@code
 * Spaces.discrete(2)
 * Spaces.box(-1, 1, 3)                                  // 3 values in [-1, 1]
 * Spaces.box(new double[] {0, -5}, new double[] {10, 5})
 * Spaces.unboundedBox(2, 3)                             // a 2x3 matrix of reals
 * Spaces.dict().put("stock", Spaces.box(0, 100, 2)).put("day", Spaces.discrete(7)).build()
 * }</pre>
 */
public final class Spaces {
    private Spaces() {
    }

    /** Integers {@code 0 .. n - 1}. */
    public static Space.Discrete discrete(long n) {
        return new Space.Discrete(n, 0);
    }

    /** Integers {@code start .. start + n - 1}. */
    public static Space.Discrete discrete(long n, long start) {
        return new Space.Discrete(n, start);
    }

    /** Reals of the given shape (none: a scalar), each within {@code [low, high]} (bounds may be infinite). */
    public static Space.Box box(double low, double high, int... shape) {
        int size = 1;
        for (int d : shape) {
            size *= Math.max(d, 0);
        }
        double[] lows = new double[size];
        double[] highs = new double[size];
        Arrays.fill(lows, low);
        Arrays.fill(highs, high);
        return new Space.Box(shape, lows, highs, "float32");
    }

    /** A vector of reals with a bound per element. */
    public static Space.Box box(double[] low, double[] high) {
        return new Space.Box(new int[] {low.length}, low, high, "float32");
    }

    /** A matrix of reals with a bound per element ({@code low[row][column]}); all rows have the same length. */
    public static Space.Box box(double[][] low, double[][] high) {
        if (low.length != high.length) {
            throw new IllegalArgumentException("a matrix Box needs as many rows of low as of high bounds, got "
                    + low.length + " and " + high.length);
        }
        int columns = low.length == 0 ? 0 : low[0].length;
        double[] lows = new double[low.length * columns];
        double[] highs = new double[lows.length];
        for (int r = 0; r < low.length; r++) {
            if (low[r].length != columns || high[r].length != columns) {
                throw new IllegalArgumentException("every row of a matrix Box has " + columns + " bounds; row " + r
                        + " has " + low[r].length + " low and " + high[r].length + " high bounds");
            }
            System.arraycopy(low[r], 0, lows, r * columns, columns);
            System.arraycopy(high[r], 0, highs, r * columns, columns);
        }
        return new Space.Box(new int[] {low.length, columns}, lows, highs, "float32");
    }

    /** Reals of the given shape with no bounds. */
    public static Space.Box unboundedBox(int... shape) {
        return box(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, shape);
    }

    /** One integer per entry i, in {@code 0 .. nvec[i] - 1}. */
    public static Space.MultiDiscrete multiDiscrete(long... nvec) {
        return new Space.MultiDiscrete(nvec, new long[nvec.length]);
    }

    /** One integer per entry i, in {@code start[i] .. start[i] + nvec[i] - 1}. */
    public static Space.MultiDiscrete multiDiscrete(long[] nvec, long[] start) {
        return new Space.MultiDiscrete(nvec, start);
    }

    /** n values, each 0 or 1. */
    public static Space.MultiBinary multiBinary(int n) {
        return new Space.MultiBinary(n);
    }

    /** One value of each part, in order. */
    public static Space.Tuple tuple(Space... parts) {
        return new Space.Tuple(Arrays.asList(parts));
    }

    /** Starts a Dict space; its keys keep the order in which they are put. */
    public static DictBuilder dict() {
        return new DictBuilder();
    }

    /** Collects the entries of a Dict space. */
    public static final class DictBuilder {
        private final Map<String, Space> parts = new LinkedHashMap<>();

        private DictBuilder() {
        }

        /** Adds an entry; a key may appear only once. */
        public DictBuilder put(String key, Space space) {
            if (parts.containsKey(key)) {
                throw new IllegalArgumentException("Dict key '" + key + "' is already defined");
            }
            parts.put(key, space);
            return this;
        }

        public Space.Dict build() {
            return new Space.Dict(parts);
        }
    }
}
