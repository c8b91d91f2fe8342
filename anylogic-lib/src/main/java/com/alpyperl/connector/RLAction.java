package com.alpyperl.connector;

import java.util.Arrays;
import java.util.Map;

/**
 * The action chosen for one decision, read according to the action space: {@link #asInt()} for
 * Discrete, {@link #asDoubleArray()} (or {@link #asDouble()}, {@link #asDoubleMatrix()}) for Box,
 * {@link #asIntArray()} for MultiDiscrete and MultiBinary, {@link #get(int)} for the parts of a
 * Tuple and {@link #get(String)} for those of a Dict. Reading it as another kind of space is an
 * error that names the right method. Immutable; a model may keep it.
 */
public final class RLAction {
    private final Space space;
    private final double[] values;
    private final int offset;

    /** An action of {@code space} given as its flat values (a copy is kept). */
    public RLAction(Space space, double[] flatValues) {
        this(space, flatValues.clone(), 0);
        if (flatValues.length != space.flatSize()) {
            throw new IllegalArgumentException("an action of " + space + " has " + space.flatSize()
                    + " values, got " + flatValues.length);
        }
    }

    /** Takes {@code values} as they are (no copy): for callers that hand over a fresh array. */
    RLAction(Space space, double[] values, int offset) {
        this.space = space;
        this.values = values;
        this.offset = offset;
    }

    /** The space this action belongs to. */
    public Space getSpace() {
        return space;
    }

    /** The chosen integer of a Discrete action. */
    public int asInt() {
        return Math.toIntExact(asLong());
    }

    /** The chosen integer of a Discrete action, as a long. */
    public long asLong() {
        require(space instanceof Space.Discrete, "asInt()", "Discrete");
        return whole(values[offset]);
    }

    /** The single number of a Box action with one element. */
    public double asDouble() {
        require(space instanceof Space.Box && space.flatSize() == 1, "asDouble()", "Box with one element");
        return values[offset];
    }

    /** The numbers of a Box action, flattened in row-major order. */
    public double[] asDoubleArray() {
        require(space instanceof Space.Box, "asDoubleArray()", "Box");
        return Arrays.copyOfRange(values, offset, offset + space.flatSize());
    }

    /** The numbers of a two-dimensional Box action, as rows. */
    public double[][] asDoubleMatrix() {
        require(space instanceof Space.Box && ((Space.Box) space).getShape().length == 2, "asDoubleMatrix()",
                "two-dimensional Box");
        int[] shape = ((Space.Box) space).getShape();
        double[][] rows = new double[shape[0]][];
        for (int r = 0; r < shape[0]; r++) {
            int from = offset + r * shape[1];
            rows[r] = Arrays.copyOfRange(values, from, from + shape[1]);
        }
        return rows;
    }

    /** The integers of a MultiDiscrete or MultiBinary action. */
    public int[] asIntArray() {
        require(space instanceof Space.MultiDiscrete || space instanceof Space.MultiBinary, "asIntArray()",
                "MultiDiscrete or MultiBinary");
        int[] out = new int[space.flatSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(whole(values[offset + i]));
        }
        return out;
    }

    private long whole(double value) {
        if (value != Math.rint(value) || Double.isInfinite(value)) {
            throw new IllegalStateException("the action value " + value + " of " + space + " is not a whole number");
        }
        return (long) value;
    }

    /** The entries of a MultiBinary action as booleans. */
    public boolean[] asBooleanArray() {
        require(space instanceof Space.MultiBinary, "asBooleanArray()", "MultiBinary");
        boolean[] out = new boolean[space.flatSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[offset + i] != 0;
        }
        return out;
    }

    /** Part {@code index} of a Tuple action. */
    public RLAction get(int index) {
        require(space instanceof Space.Tuple, "get(int)", "Tuple");
        java.util.List<Space> parts = ((Space.Tuple) space).getSpaces();
        if (index < 0 || index >= parts.size()) {
            throw new IndexOutOfBoundsException("the action space " + space + " has parts 0.." + (parts.size() - 1)
                    + ", not " + index);
        }
        int at = offset;
        for (int i = 0; i < index; i++) {
            at += parts.get(i).flatSize();
        }
        return new RLAction(parts.get(index), values, at);
    }

    /** Entry {@code key} of a Dict action. */
    public RLAction get(String key) {
        require(space instanceof Space.Dict, "get(String)", "Dict");
        int at = offset;
        for (Map.Entry<String, Space> part : ((Space.Dict) space).getSpaces().entrySet()) {
            if (part.getKey().equals(key)) {
                return new RLAction(part.getValue(), values, at);
            }
            at += part.getValue().flatSize();
        }
        throw new IllegalArgumentException("the action space " + space + " has no key '" + key + "'; its keys are "
                + ((Space.Dict) space).getSpaces().keySet());
    }

    /** The action's values in the flat layout of its space. */
    public double[] toFlatArray() {
        return Arrays.copyOfRange(values, offset, offset + space.flatSize());
    }

    @Override
    public String toString() {
        if (space instanceof Space.Discrete) {
            return String.valueOf((long) values[offset]);
        }
        if (space instanceof Space.Tuple) {
            StringBuilder out = new StringBuilder("(");
            for (int i = 0; i < ((Space.Tuple) space).getSpaces().size(); i++) {
                out.append(i > 0 ? ", " : "").append(get(i));
            }
            return out.append(')').toString();
        }
        if (space instanceof Space.Dict) {
            StringBuilder out = new StringBuilder("{");
            boolean first = true;
            for (String key : ((Space.Dict) space).getSpaces().keySet()) {
                out.append(first ? "'" : ", '").append(key).append("': ").append(get(key));
                first = false;
            }
            return out.append('}').toString();
        }
        if (space instanceof Space.Box) {
            return Arrays.toString(asDoubleArray());
        }
        return Arrays.toString(asIntArray());
    }

    private void require(boolean ok, String method, String kind) {
        if (!ok) {
            throw new IllegalStateException(method + " reads a " + kind + " action, but this action is " + space
                    + ": read it with " + readerFor(space));
        }
    }

    private static String readerFor(Space space) {
        if (space instanceof Space.Discrete) {
            return "asInt()";
        }
        if (space instanceof Space.Box) {
            return space.flatSize() == 1 ? "asDouble() or asDoubleArray()" : "asDoubleArray()";
        }
        if (space instanceof Space.MultiBinary) {
            return "asIntArray() or asBooleanArray()";
        }
        if (space instanceof Space.MultiDiscrete) {
            return "asIntArray()";
        }
        return space instanceof Space.Tuple ? "get(int index)" : "get(String key)";
    }
}
