package com.alpyperl.launcher.runtime;

import com.alpyperl.connector.ModelException;

/**
 * The AnyLogic engine stopped a run with an error (state ERROR). The engine catches the model's
 * exception and prints it, so the model's stack trace is what the model thread printed.
 */
public final class EngineFailure extends ModelException {
    private static final long serialVersionUID = 1L;

    private final String printed;

    EngineFailure(String message, String printed) {
        super(message);
        this.printed = printed;
    }

    /** What the model thread printed during the run, ending with the engine's report of the error. */
    public String printed() {
        return printed;
    }
}
