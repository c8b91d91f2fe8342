package com.alpype;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Makes the spaces of ALPypeRL 1.x, each the same as a space of alpyperl: {@code discrete(n)},
 * {@code box(low, high)} (a null bound is unbounded), {@code multibinary(n)}, {@code
 * multidiscrete(nvec)}, {@code tuple(...)}, {@code dict(...)}.
 */
public class GymSpaces {
    public GymSpaces() {
    }

    /** Integers {@code 0 .. n - 1}. */
    public static Discrete discrete(int n) {
        return Discrete.of(n);
    }

    /** Integers {@code start .. start + n - 1}. */
    public static Discrete discrete(int n, int start) {
        return Discrete.of(n, start);
    }

    /** One real number within {@code [low, high]}. */
    public static Box box(Double low, Double high) {
        return Box.of(low, high);
    }

    /** A vector of reals with a bound per element. */
    public static Box box(Double[] low, Double[] high) {
        return Box.of(low, high);
    }

    /** A vector of {@code n} reals, each within {@code [low, high]}. */
    public static Box box(Double low, Double high, int n) {
        return Box.of(low, high, n);
    }

    /** A {@code rows} x {@code cols} matrix of reals, each within {@code [low, high]}. */
    public static Box box(Double low, Double high, int rows, int cols) {
        return Box.of(low, high, rows, cols);
    }

    /** A matrix of reals with a bound per element. */
    public static Box box(Double[][] low, Double[][] high) {
        return Box.of(low, high);
    }

    /** {@code n} values of 0 or 1. */
    public static MultiBinary multibinary(int n) {
        return MultiBinary.of(n);
    }

    /** One integer per entry i, in {@code 0 .. nvec[i] - 1}. */
    public static MultiDiscrete multidiscrete(int[] nvec) {
        return MultiDiscrete.of(nvec);
    }

    /** One integer per entry i, in {@code start[i] .. start[i] + nvec[i] - 1}. */
    public static MultiDiscrete multidiscrete(int[] nvec, int[] start) {
        return MultiDiscrete.of(nvec, start);
    }

    /** The spaces one after another. */
    public static Tuple tuple(GymSpace[] spaces) {
        return Tuple.of(Arrays.asList(spaces));
    }

    /** The spaces one after another. */
    public static Tuple tuple(List<GymSpace> spaces) {
        return Tuple.of(spaces);
    }

    /** A Dict with one entry. */
    public static Dict dict(String key, GymSpace space) {
        return Dict.of(Collections.singletonMap(key, space));
    }

    /** A Dict of the entries, in the map's order. */
    public static Dict dict(Map<String, GymSpace> spaces) {
        return Dict.of(spaces);
    }

    /** Integers {@code start .. start + n - 1}. */
    public static class Discrete extends GymSpace {
        private Discrete(int n, int start) {
            super(Spaces.discrete(n, start));
        }

        public static Discrete of(int n) {
            return new Discrete(n, 0);
        }

        public static Discrete of(int n, int start) {
            return new Discrete(n, start);
        }
    }

    /** Reals within bounds (a null bound is unbounded): a scalar, a vector or a matrix. */
    public static class Box extends GymSpace {
        /** An infinite bound, as 1.x names it. */
        public static final Double INFINITY = Double.POSITIVE_INFINITY;

        private Box(Space.Box space) {
            super(space);
        }

        public static Box of(Double low, Double high) {
            return new Box(Spaces.box(lower(low), upper(high)));
        }

        public static Box of(Double[] low, Double[] high) {
            return new Box(Spaces.box(bounds(low, Double.NEGATIVE_INFINITY), bounds(high, Double.POSITIVE_INFINITY)));
        }

        public static Box of(Double low, Double high, int n) {
            return new Box(Spaces.box(lower(low), upper(high), n));
        }

        public static Box of(Double low, Double high, int rows, int cols) {
            return new Box(Spaces.box(lower(low), upper(high), rows, cols));
        }

        public static Box of(Double[][] low, Double[][] high) {
            double[][] lows = new double[low.length][];
            double[][] highs = new double[high.length][];
            for (int r = 0; r < lows.length; r++) {
                lows[r] = bounds(low[r], Double.NEGATIVE_INFINITY);
            }
            for (int r = 0; r < highs.length; r++) {
                highs[r] = bounds(high[r], Double.POSITIVE_INFINITY);
            }
            return new Box(Spaces.box(lows, highs));
        }

        /** A real number with no bounds. */
        public static Box unbounded() {
            return of((Double) null, (Double) null);
        }

        private static double lower(Double bound) {
            return bound == null ? Double.NEGATIVE_INFINITY : bound;
        }

        private static double upper(Double bound) {
            return bound == null ? Double.POSITIVE_INFINITY : bound;
        }

        private static double[] bounds(Double[] given, double missing) {
            double[] bounds = new double[given.length];
            for (int i = 0; i < bounds.length; i++) {
                bounds[i] = given[i] == null ? missing : given[i];
            }
            return bounds;
        }
    }

    /** {@code n} values of 0 or 1. */
    public static class MultiBinary extends GymSpace {
        private MultiBinary(int n) {
            super(Spaces.multiBinary(n));
        }

        public static MultiBinary of(int n) {
            return new MultiBinary(n);
        }
    }

    /** One integer per entry i, in {@code start[i] .. start[i] + nvec[i] - 1}. */
    public static class MultiDiscrete extends GymSpace {
        private MultiDiscrete(int[] nvec, int[] start) {
            super(Spaces.multiDiscrete(longs(nvec), longs(start)));
        }

        public static MultiDiscrete of(int[] nvec) {
            return new MultiDiscrete(nvec, new int[nvec.length]);
        }

        public static MultiDiscrete of(int[] nvec, int[] start) {
            return new MultiDiscrete(nvec, start);
        }

        private static long[] longs(int[] values) {
            long[] longs = new long[values.length];
            for (int i = 0; i < longs.length; i++) {
                longs[i] = values[i];
            }
            return longs;
        }
    }

    /** Spaces one after another. */
    public static class Tuple extends GymSpace {
        private Tuple(List<GymSpace> spaces) {
            super(Spaces.tuple(parts(spaces)));
        }

        public static Tuple of(List<GymSpace> spaces) {
            return new Tuple(spaces);
        }

        static Space[] parts(List<GymSpace> spaces) {
            Space[] parts = new Space[spaces.size()];
            for (int i = 0; i < parts.length; i++) {
                parts[i] = spaces.get(i).toSpace();
            }
            return parts;
        }
    }

    /** Named spaces, in the order given. */
    public static class Dict extends GymSpace {
        private Dict(Map<String, GymSpace> spaces) {
            super(build(spaces));
        }

        public static Dict of(Map<String, GymSpace> spaces) {
            return new Dict(spaces);
        }

        private static Space build(Map<String, GymSpace> spaces) {
            Spaces.DictBuilder dict = Spaces.dict();
            for (Map.Entry<String, GymSpace> entry : spaces.entrySet()) {
                dict.put(entry.getKey(), entry.getValue().toSpace());
            }
            return dict.build();
        }
    }
}
