package com.alpype;

import java.util.Arrays;

/**
 * An action as ALPypeRL 1.x models read it: the action's values in the order of the action space,
 * boxed as 1.x boxes them: {@code Integer} for Discrete, MultiDiscrete and MultiBinary values,
 * {@code Double} for Box values. Reading a value as the other type fails as in 1.x, with a message
 * that says which getter fits.
 */
public class RLAction {
    private final Number[] actions;

    /** An action with these values. */
    public RLAction(Number[] actions) {
        this.actions = actions.clone();
    }

    /** An action with these values, of {@code space} (values in the space's order, one per value). */
    public RLAction(Number[] actions, RLSpace space) {
        this(actions);
    }

    /** The one integer of a Discrete action. */
    public int getIntAction() {
        if (actions.length != 1) {
            throw new IllegalStateException("getIntAction() reads an action with one value; this action has "
                    + actions.length + " " + Arrays.toString(actions) + ": use getInt(i)");
        }
        return getInt(0);
    }

    /** The one number of a Box action with one value. */
    public double getDoubleAction() {
        if (actions.length != 1) {
            throw new IllegalStateException("getDoubleAction() reads an action with one value; this action has "
                    + actions.length + " " + Arrays.toString(actions) + ": use getDouble(i)");
        }
        return getDouble(0);
    }

    /** All values (a copy). */
    public Number[] getActions() {
        return actions.clone();
    }

    /** Value {@code i}, as it is boxed. */
    public Number getNumber(int i) {
        return actions[i];
    }

    /** Value {@code i} of a Box part. */
    public Double getDouble(int i) {
        Number value = actions[i];
        if (!(value instanceof Double)) {
            throw new ClassCastException("action value " + i + " is " + describe(value)
                    + "; a discrete value is read with getInt(" + i + ") or getIntAction()");
        }
        return (Double) value;
    }

    /** Value {@code i} of a Discrete, MultiDiscrete or MultiBinary part. */
    public Integer getInt(int i) {
        Number value = actions[i];
        if (!(value instanceof Integer)) {
            throw new ClassCastException("action value " + i + " is " + describe(value)
                    + "; a Box value is read with getDouble(" + i + ") or getDoubleAction()");
        }
        return (Integer) value;
    }

    @Override
    public String toString() {
        return "RLAction" + Arrays.toString(actions);
    }

    private static String describe(Number value) {
        return value == null ? "null" : "the " + value.getClass().getSimpleName() + " " + value;
    }
}
