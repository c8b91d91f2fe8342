package com.alpyperl.launcher;

/**
 * An action the caller wrote is not a value of the action space; it was refused before any model
 * of the step ran (alpyperl raises it as a Python {@code ValueError}).
 */
public final class ActionOutsideSpaceException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    ActionOutsideSpaceException(String message) {
        super(message);
    }
}
