package com.acme.cartpole;

import java.io.PrintStream;
import java.io.PrintWriter;

/** For alpyperl's error tests: an exception that prints nothing, so the engine's report is empty. */
public class SilentFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SilentFailure() {
        super("silent");
    }

    @Override
    public void printStackTrace(PrintStream s) {
    }

    @Override
    public void printStackTrace(PrintWriter s) {
    }
}
