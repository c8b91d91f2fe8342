package com.alpyperl.launcher;

/** The model did not reach its next decision point in time; the message shows where its thread is. */
public class StepTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StepTimeoutException(String message) {
        super(message);
    }
}
