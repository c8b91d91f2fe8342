package com.alpyperl.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** Model code threw, or broke the model contract; carries the model's stack trace as its cause. */
public class ModelFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFailure(String message, Throwable cause) {
        super(message, cause);
    }

    /** The Java stack trace of the cause, as text, with long runs of one repeated frame folded. */
    public String getModelStackTrace() {
        if (getCause() == null) {
            return "";
        }
        if (getCause() instanceof EngineFailure) {
            return foldRepeatedLines(((EngineFailure) getCause()).printed().trim());
        }
        StringWriter text = new StringWriter();
        getCause().printStackTrace(new PrintWriter(text));
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

    private static final int KEPT_REPEATS = 5;
}
