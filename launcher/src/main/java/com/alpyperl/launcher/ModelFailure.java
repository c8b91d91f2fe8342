package com.alpyperl.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Model code threw, or broke the model contract; carries the model's stack trace as its cause. */
public class ModelFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFailure(String message, Throwable cause) {
        super(message, cause);
    }

    /** The Java stack trace of the cause, as text. */
    public String getModelStackTrace() {
        if (getCause() == null) {
            return "";
        }
        StringWriter text = new StringWriter();
        getCause().printStackTrace(new PrintWriter(text));
        return text.toString();
    }
}
