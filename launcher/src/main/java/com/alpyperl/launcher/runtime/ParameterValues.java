package com.alpyperl.launcher.runtime;

import java.util.Collection;

/** Converts parameter values that came from Python (as JSON) to the Java types of model parameters. */
final class ParameterValues {
    private ParameterValues() {
    }

    static void requireSupported(Class<?> type, String name) {
        if (type != double.class && type != float.class && type != int.class && type != long.class
                && type != boolean.class && type != String.class) {
            throw new ModelLoadException("parameter " + name + " has type " + type.getSimpleName()
                    + "; supported are double, float, int, long, boolean and String");
        }
    }

    /** How long a text from Python may be in an error message before it is cut. */
    static final int SHOWN_CHARACTERS = 100;

    /** {@code text} as an error message shows it: its first {@value #SHOWN_CHARACTERS} characters and its length. */
    static String shown(String text) {
        return text.length() <= SHOWN_CHARACTERS ? text
                : text.substring(0, SHOWN_CHARACTERS) + "... (" + text.length() + " characters)";
    }

    static ModelLoadException unknown(String name, Collection<String> known) {
        return new ModelLoadException("the model has no parameter '" + shown(name) + "'; its parameters are "
                + (known.isEmpty() ? "none" : String.join(", ", known)));
    }

    /** {@code value} (Long, Double, Boolean or String from JSON) as a value of {@code type}. */
    static Object convert(Object value, Class<?> type, String name) {
        if (type == boolean.class || type == Boolean.class) {
            if (value instanceof Boolean) {
                return value;
            }
        } else if (type == String.class) {
            if (value instanceof String) {
                return value;
            }
        } else if (value instanceof Number && !(value instanceof Boolean)) {
            Number number = (Number) value;
            if (type == double.class || type == Double.class) {
                return number.doubleValue();
            }
            if (type == float.class || type == Float.class) {
                return number.floatValue();
            }
            boolean integral = number instanceof Long;
            if (integral && (type == long.class || type == Long.class)) {
                return number.longValue();
            }
            if (integral && (type == int.class || type == Integer.class)
                    && number.longValue() == (int) number.longValue()) {
                return (int) number.longValue();
            }
        }
        throw new ModelLoadException("parameter " + name + " has type " + type.getSimpleName() + "; the value "
                + (value instanceof String ? "\"" + shown((String) value) + "\"" : String.valueOf(value)) + " does not fit");
    }
}
