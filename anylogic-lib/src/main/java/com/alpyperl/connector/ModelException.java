package com.alpyperl.connector;

/**
 * Model code failed while the connector called it (for example {@code takeAction} threw), or the
 * model broke the contract (for example an observation of the wrong size).
 */
public class ModelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
