package com.alpyperl.launcher;

/**
 * The caller's thread was interrupted while it waited for its model (JPype interrupts it when the
 * user presses Ctrl-C): the step was given up on, as after a timeout, so that Python gets control
 * back at once. {@code reset()} starts a new model thread.
 */
public class StepInterruptedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StepInterruptedException(String message) {
        super(message);
    }
}
