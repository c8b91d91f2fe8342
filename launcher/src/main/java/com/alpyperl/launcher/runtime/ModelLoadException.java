package com.alpyperl.launcher.runtime;

/** A model folder, jar, class or parameter could not be found or used; the message says what to fix. */
public class ModelLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
