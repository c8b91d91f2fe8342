package com.alpyperl.connector;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An observation or action space, as in Gymnasium: {@link Discrete}, {@link Box},
 * {@link MultiDiscrete}, {@link MultiBinary}, {@link Tuple} and {@link Dict}, nested freely.
 * Build them with {@link Spaces}.
 *
 * <p>Values of a space travel as a flat row of numbers ({@link #flatSize()} of them): one for
 * Discrete, every element of a Box in row-major order, one per entry of MultiDiscrete and
 * MultiBinary, and the parts of a Tuple or Dict one after another, in order.
 */
public abstract class Space {

    Space() {
    }

    /** How many numbers a value of this space takes in the flat layout. */
    public abstract int flatSize();

    /** This space as JSON, the form in which it is exchanged with Python. */
    public final String toJson() {
        StringBuilder out = new StringBuilder();
        appendJson(out);
        return out.toString();
    }

    abstract void appendJson(StringBuilder out);

    /**
     * Why the {@link #flatSize()} values from {@code offset} on in {@code flat} are not a value of
     * this space (for example "element 2 is 9.0, outside 0..3"), or null if they are one.
     */
    public abstract String problemWith(DoubleBuffer flat, int offset);

    /** Why {@code value} is not a whole number in {@code low .. high}, or null if it is one. */
    static String notAnIntegerIn(double value, long low, long high) {
        if (value != Math.rint(value)) {
            return value + " is not a whole number";
        }
        if (value < low || value > high) {
            return (long) value + " is outside " + low + ".." + high;
        }
        return null;
    }

    /** Reads a space from its JSON form ({@link #toJson()}). */
    public static Space fromJson(String json) {
        return fromParsed(Json.parse(json), "space");
    }

    /** Reads a space from a JSON value already parsed by {@link Json#parse(String)}; {@code where} names it in errors. */
    public static Space fromJsonValue(Object parsed, String where) {
        return fromParsed(parsed, where);
    }

    /**
     * Whether values of this space and of {@code other} are laid out alike: the same kinds, shapes,
     * sizes, starts and Dict keys, nested the same way. Box bounds are not compared (a space that
     * went through Python may carry them rounded to float32).
     */
    public boolean hasSameLayout(Space other) {
        if (this instanceof Box && other instanceof Box) {
            return Arrays.equals(((Box) this).getShape(), ((Box) other).getShape());
        }
        if (this instanceof Tuple && other instanceof Tuple) {
            return sameLayouts(((Tuple) this).getSpaces(), ((Tuple) other).getSpaces());
        }
        if (this instanceof Dict && other instanceof Dict) {
            Map<String, Space> mine = ((Dict) this).getSpaces();
            Map<String, Space> theirs = ((Dict) other).getSpaces();
            return new ArrayList<>(mine.keySet()).equals(new ArrayList<>(theirs.keySet()))
                    && sameLayouts(new ArrayList<>(mine.values()), new ArrayList<>(theirs.values()));
        }
        return equals(other);
    }

    private static boolean sameLayouts(List<Space> a, List<Space> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).hasSameLayout(b.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Space && ((Space) other).toJson().equals(toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    /** {@code Discrete(n, start)}: one integer in {@code start .. start + n - 1}. */
    public static final class Discrete extends Space {
        private final long n;
        private final long start;

        Discrete(long n, long start) {
            if (n <= 0) {
                throw new IllegalArgumentException("Discrete needs n > 0, got " + n);
            }
            this.n = n;
            this.start = start;
        }

        public long getN() {
            return n;
        }

        public long getStart() {
            return start;
        }

        @Override
        public int flatSize() {
            return 1;
        }

        @Override
        void appendJson(StringBuilder out) {
            out.append("{\"type\":\"Discrete\",\"n\":").append(n).append(",\"start\":").append(start).append('}');
        }

        @Override
        public String problemWith(DoubleBuffer flat, int offset) {
            return notAnIntegerIn(flat.get(offset), start, start + n - 1);
        }

        @Override
        public String toString() {
            return start == 0 ? "Discrete(" + n + ")" : "Discrete(" + n + ", start=" + start + ")";
        }
    }

    /** {@code Box(low, high, shape)}: real numbers within bounds (which may be infinite). */
    public static final class Box extends Space {
        private final int[] shape;
        private final double[] low;
        private final double[] high;
        private final String dtype;
        /** Whether the dtype holds whole numbers only (int8 ... uint64). */
        private final boolean integral;

        Box(int[] shape, double[] low, double[] high, String dtype) {
            int size = 1;
            for (int d : shape) {
                if (d <= 0) {
                    throw new IllegalArgumentException("Box dimensions must be positive, got shape " + shapeText(shape));
                }
                size = Math.multiplyExact(size, d);
            }
            if (low.length != size || high.length != size) {
                throw new IllegalArgumentException("Box of shape " + shapeText(shape) + " needs " + size
                        + " low and high bounds, got " + low.length + " and " + high.length);
            }
            for (int i = 0; i < size; i++) {
                if (Double.isNaN(low[i]) || Double.isNaN(high[i]) || low[i] > high[i]) {
                    throw new IllegalArgumentException("Box bound " + i + " is not an interval: low "
                            + low[i] + ", high " + high[i]);
                }
            }
            this.shape = shape.clone();
            this.low = low.clone();
            this.high = high.clone();
            this.dtype = dtype;
            this.integral = dtype != null && (dtype.startsWith("int") || dtype.startsWith("uint"));
        }

        public int[] getShape() {
            return shape.clone();
        }

        public double[] getLow() {
            return low.clone();
        }

        public double[] getHigh() {
            return high.clone();
        }

        public String getDtype() {
            return dtype;
        }

        @Override
        public int flatSize() {
            return low.length;
        }

        @Override
        void appendJson(StringBuilder out) {
            out.append("{\"type\":\"Box\",\"shape\":");
            appendInts(out, shape);
            out.append(",\"low\":");
            appendDoubles(out, low);
            out.append(",\"high\":");
            appendDoubles(out, high);
            out.append(",\"dtype\":");
            Json.appendString(out, dtype);
            out.append('}');
        }

        @Override
        public String problemWith(DoubleBuffer flat, int offset) {
            for (int i = 0; i < low.length; i++) {
                double value = flat.get(offset + i);
                if (!(value >= low[i] && value <= high[i])) {
                    return "element " + i + " is " + value
                            + (Double.isNaN(value) ? "" : ", outside [" + low[i] + ", " + high[i] + "]");
                }
                if (integral && value != Math.rint(value)) {
                    return "element " + i + " is " + value + ", not a whole number (the space's dtype is " + dtype + ")";
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "Box(" + boundText(low) + ", " + boundText(high) + ", " + shapeText(shape) + ", " + dtype + ")";
        }

        private static String boundText(double[] bound) {
            for (double b : bound) {
                if (b != bound[0]) {
                    return Arrays.toString(bound);
                }
            }
            return numberText(bound[0]);
        }

        private static String numberText(double value) {
            if (Double.isInfinite(value)) {
                return value > 0 ? "inf" : "-inf";
            }
            return value == Math.rint(value) && Math.abs(value) < 1e16 ? (long) value + ".0" : String.valueOf(value);
        }
    }

    /** {@code MultiDiscrete(nvec, start)}: one integer per entry i, in {@code start[i] .. start[i] + nvec[i] - 1}. */
    public static final class MultiDiscrete extends Space {
        private final long[] nvec;
        private final long[] start;

        MultiDiscrete(long[] nvec, long[] start) {
            if (nvec.length == 0) {
                throw new IllegalArgumentException("MultiDiscrete needs at least one entry");
            }
            if (start.length != nvec.length) {
                throw new IllegalArgumentException("MultiDiscrete has " + nvec.length + " entries but "
                        + start.length + " start values");
            }
            for (long n : nvec) {
                if (n <= 0) {
                    throw new IllegalArgumentException("MultiDiscrete needs every n > 0, got " + Arrays.toString(nvec));
                }
            }
            this.nvec = nvec.clone();
            this.start = start.clone();
        }

        public long[] getNvec() {
            return nvec.clone();
        }

        public long[] getStart() {
            return start.clone();
        }

        @Override
        public int flatSize() {
            return nvec.length;
        }

        @Override
        void appendJson(StringBuilder out) {
            out.append("{\"type\":\"MultiDiscrete\",\"nvec\":");
            appendLongs(out, nvec);
            out.append(",\"start\":");
            appendLongs(out, start);
            out.append('}');
        }

        @Override
        public String problemWith(DoubleBuffer flat, int offset) {
            for (int i = 0; i < nvec.length; i++) {
                String problem = notAnIntegerIn(flat.get(offset + i), start[i], start[i] + nvec[i] - 1);
                if (problem != null) {
                    return "element " + i + ": " + problem;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            boolean zeroStart = Arrays.stream(start).allMatch(s -> s == 0);
            return "MultiDiscrete(" + spaced(nvec) + (zeroStart ? "" : ", start=" + spaced(start)) + ")";
        }

        /** Numbers as numpy prints them: {@code [3 4]}. */
        private static String spaced(long[] values) {
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < values.length; i++) {
                out.append(i > 0 ? " " : "").append(values[i]);
            }
            return out.append(']').toString();
        }
    }

    /** {@code MultiBinary(n)}: n values, each 0 or 1. */
    public static final class MultiBinary extends Space {
        private final int n;

        MultiBinary(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("MultiBinary needs n > 0, got " + n);
            }
            this.n = n;
        }

        public int getN() {
            return n;
        }

        @Override
        public int flatSize() {
            return n;
        }

        @Override
        void appendJson(StringBuilder out) {
            out.append("{\"type\":\"MultiBinary\",\"n\":").append(n).append('}');
        }

        @Override
        public String problemWith(DoubleBuffer flat, int offset) {
            for (int i = 0; i < n; i++) {
                String problem = notAnIntegerIn(flat.get(offset + i), 0, 1);
                if (problem != null) {
                    return "element " + i + ": " + problem;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "MultiBinary(" + n + ")";
        }
    }

    /** {@code Tuple(s0, s1, ...)}: one value of each part, in order. */
    public static final class Tuple extends Space {
        private final List<Space> parts;
        private final int flatSize;

        Tuple(List<Space> parts) {
            this.parts = Collections.unmodifiableList(new ArrayList<>(parts));
            int size = 0;
            for (Space part : this.parts) {
                if (part == null) {
                    throw new IllegalArgumentException("Tuple part is null");
                }
                size += part.flatSize();
            }
            this.flatSize = size;
        }

        public List<Space> getSpaces() {
            return parts;
        }

        @Override
        public int flatSize() {
            return flatSize;
        }

        @Override
        void appendJson(StringBuilder out) {
            out.append("{\"type\":\"Tuple\",\"spaces\":[");
            for (int i = 0; i < parts.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                parts.get(i).appendJson(out);
            }
            out.append("]}");
        }

        @Override
        public String problemWith(DoubleBuffer flat, int offset) {
            int at = offset;
            for (int i = 0; i < parts.size(); i++) {
                String problem = parts.get(i).problemWith(flat, at);
                if (problem != null) {
                    return "part " + i + ": " + problem;
                }
                at += parts.get(i).flatSize();
            }
            return null;
        }

        @Override
        public String toString() {
            StringBuilder out = new StringBuilder("Tuple(");
            for (int i = 0; i < parts.size(); i++) {
                out.append(i > 0 ? ", " : "").append(parts.get(i));
            }
            return out.append(')').toString();
        }
    }

    /** {@code Dict(key: space, ...)}: one value per key, in the order the keys were given. */
    public static final class Dict extends Space {
        private final Map<String, Space> parts;
        private final int flatSize;

        Dict(Map<String, Space> parts) {
            this.parts = Collections.unmodifiableMap(new LinkedHashMap<>(parts));
            int size = 0;
            for (Map.Entry<String, Space> part : this.parts.entrySet()) {
                if (part.getValue() == null) {
                    throw new IllegalArgumentException("Dict entry '" + part.getKey() + "' is null");
                }
                size += part.getValue().flatSize();
            }
            this.flatSize = size;
        }

        /** The parts by key, in order. */
        public Map<String, Space> getSpaces() {
            return parts;
        }

        @Override
        public int flatSize() {
            return flatSize;
        }

        @Override
        void appendJson(StringBuilder out) {
            out.append("{\"type\":\"Dict\",\"spaces\":[");
            boolean first = true;
            for (Map.Entry<String, Space> part : parts.entrySet()) {
                out.append(first ? "[" : ",[");
                Json.appendString(out, part.getKey());
                out.append(',');
                part.getValue().appendJson(out);
                out.append(']');
                first = false;
            }
            out.append("]}");
        }

        @Override
        public String problemWith(DoubleBuffer flat, int offset) {
            int at = offset;
            for (Map.Entry<String, Space> part : parts.entrySet()) {
                String problem = part.getValue().problemWith(flat, at);
                if (problem != null) {
                    return "'" + part.getKey() + "': " + problem;
                }
                at += part.getValue().flatSize();
            }
            return null;
        }

        @Override
        public String toString() {
            StringBuilder out = new StringBuilder("Dict(");
            boolean first = true;
            for (Map.Entry<String, Space> part : parts.entrySet()) {
                out.append(first ? "'" : ", '").append(part.getKey()).append("': ").append(part.getValue());
                first = false;
            }
            return out.append(')').toString();
        }
    }

    // ---- JSON reading -------------------------------------------------------------------------

    private static Space fromParsed(Object parsed, String where) {
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException(where + ": expected a JSON object describing a space");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) parsed;
        String type = String.valueOf(map.get("type"));
        switch (type) {
            case "Discrete":
                return new Discrete(longField(map, "n", where), map.containsKey("start") ? longField(map, "start", where) : 0);
            case "Box": {
                int[] shape = toInts(listField(map, "shape", where), where + ".shape");
                return new Box(shape, toDoubles(listField(map, "low", where), where + ".low"),
                        toDoubles(listField(map, "high", where), where + ".high"),
                        map.containsKey("dtype") ? String.valueOf(map.get("dtype")) : "float32");
            }
            case "MultiDiscrete": {
                long[] nvec = toLongs(listField(map, "nvec", where), where + ".nvec");
                long[] start = map.containsKey("start") ? toLongs(listField(map, "start", where), where + ".start")
                        : new long[nvec.length];
                return new MultiDiscrete(nvec, start);
            }
            case "MultiBinary":
                return new MultiBinary(Math.toIntExact(longField(map, "n", where)));
            case "Tuple": {
                List<Space> parts = new ArrayList<>();
                List<Object> items = listField(map, "spaces", where);
                for (int i = 0; i < items.size(); i++) {
                    parts.add(fromParsed(items.get(i), where + "[" + i + "]"));
                }
                return new Tuple(parts);
            }
            case "Dict": {
                Map<String, Space> parts = new LinkedHashMap<>();
                for (Object item : listField(map, "spaces", where)) {
                    if (!(item instanceof List) || ((List<?>) item).size() != 2 || !(((List<?>) item).get(0) instanceof String)) {
                        throw new IllegalArgumentException(where + ": Dict entries must be [key, space] pairs");
                    }
                    String key = (String) ((List<?>) item).get(0);
                    if (parts.put(key, fromParsed(((List<?>) item).get(1), where + "['" + key + "']")) != null) {
                        throw new IllegalArgumentException(where + ": Dict key '" + key + "' appears twice");
                    }
                }
                return new Dict(parts);
            }
            default:
                throw new IllegalArgumentException(where + ": unknown space type '" + type
                        + "' (known: Discrete, Box, MultiDiscrete, MultiBinary, Tuple, Dict)");
        }
    }

    private static long longField(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (!(value instanceof Long)) {
            throw new IllegalArgumentException(where + ": '" + key + "' must be an integer, got " + value);
        }
        return (Long) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> listField(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (!(value instanceof List)) {
            throw new IllegalArgumentException(where + ": '" + key + "' must be a list, got " + value);
        }
        return (List<Object>) value;
    }

    private static double[] toDoubles(List<Object> list, String where) {
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number)) {
                throw new IllegalArgumentException(where + "[" + i + "] is not a number");
            }
            out[i] = ((Number) list.get(i)).doubleValue();
        }
        return out;
    }

    private static long[] toLongs(List<Object> list, String where) {
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long)) {
                throw new IllegalArgumentException(where + "[" + i + "] is not an integer");
            }
            out[i] = (Long) list.get(i);
        }
        return out;
    }

    private static int[] toInts(List<Object> list, String where) {
        long[] values = toLongs(list, where);
        int[] out = new int[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    // ---- text helpers -------------------------------------------------------------------------

    static String shapeText(int[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        StringBuilder out = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            out.append(i > 0 ? ", " : "").append(shape[i]);
        }
        return out.append(')').toString();
    }

    private static void appendInts(StringBuilder out, int[] values) {
        out.append('[');
        for (int i = 0; i < values.length; i++) {
            out.append(i > 0 ? "," : "").append(values[i]);
        }
        out.append(']');
    }

    private static void appendLongs(StringBuilder out, long[] values) {
        out.append('[');
        for (int i = 0; i < values.length; i++) {
            out.append(i > 0 ? "," : "").append(values[i]);
        }
        out.append(']');
    }

    private static void appendDoubles(StringBuilder out, double[] values) {
        out.append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            Json.appendNumber(out, values[i]);
        }
        out.append(']');
    }
}
