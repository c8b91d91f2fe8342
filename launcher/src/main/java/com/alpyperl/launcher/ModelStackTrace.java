package com.alpyperl.launcher;

import com.alpyperl.connector.ModelException;
import com.alpyperl.launcher.runtime.EngineFailure;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The model's Java stack trace of a {@link ModelException} the launcher reports to its caller:
 * the stack of the exception's cause (what model code threw), as text, with long runs of one
 * repeated frame folded. Python shows it in {@code ModelError.java_stack_trace}.
 */
public final class ModelStackTrace {
    private static final int KEPT_REPEATS = 5;

    private ModelStackTrace() {
    }

    /** The stack trace of {@code failure}'s cause, or "" when it has none. */
    public static String of(ModelException failure) {
        Throwable cause = failure.getCause();
        if (cause == null) {
            return "";
        }
        if (cause instanceof EngineFailure) {
            return foldRepeatedLines(((EngineFailure) cause).printed().trim());
        }
        StringWriter text = new StringWriter();
        cause.printStackTrace(new PrintWriter(text));
        return foldRepeatedLines(text.toString());
    }

    /** Keeps the first few lines of each run of identical lines (deep recursion) and counts the rest. */
    static String foldRepeatedLines(String trace) {
        List<String> kept = new ArrayList<>();
        String[] lines = trace.split("\n", -1);
        for (int i = 0; i < lines.length; ) {
            int run = 1;
            while (i + run < lines.length && lines[i + run].equals(lines[i])) {
                run++;
            }
            for (int k = 0; k < Math.min(run, KEPT_REPEATS); k++) {
                kept.add(lines[i]);
            }
            if (run > KEPT_REPEATS) {
                kept.add("\t... the line above repeats " + (run - KEPT_REPEATS) + " more times");
            }
            i += run;
        }
        return String.join("\n", kept);
    }
}
