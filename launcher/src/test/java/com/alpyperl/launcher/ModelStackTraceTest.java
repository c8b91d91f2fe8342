package com.alpyperl.launcher;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.ModelException;
import org.junit.Test;

public class ModelStackTraceTest {

    @Test
    public void foldsLongRunsOfARepeatedLineAndKeepsTheRest() {
        StringBuilder trace = new StringBuilder("java.lang.StackOverflowError\n");
        for (int i = 0; i < 1000; i++) {
            trace.append("\tat Model.recurse(Model.java:7)\n");
        }
        trace.append("\tat Model.run(Model.java:3)");
        String folded = ModelStackTrace.foldRepeatedLines(trace.toString());
        String[] lines = folded.split("\n");
        assertEquals(1 + 5 + 1 + 1, lines.length);
        assertEquals("\t... the line above repeats 995 more times", lines[6]);
        assertEquals("\tat Model.run(Model.java:3)", lines[7]);
    }

    @Test
    public void leavesShortRunsAndDistinctLinesAlone() {
        String trace = "java.lang.IllegalStateException: x\n\tat A.a(A.java:1)\n\tat A.a(A.java:1)\n\tat B.b(B.java:2)";
        assertEquals(trace, ModelStackTrace.foldRepeatedLines(trace));
    }

    @Test
    public void theModelStackTraceOfAFailureIsFolded() {
        ModelException failure = new ModelException("failed", deepRecursion(200));
        String trace = ModelStackTrace.of(failure);
        assertTrue(trace, trace.contains("\t... the line above repeats 195 more times"));
        assertEquals(trace, 6, trace.split("deepRecursion", -1).length - 1);
    }

    private static RuntimeException deepRecursion(int depth) {
        if (depth == 0) {
            return new IllegalStateException("deep");
        }
        return deepRecursion(depth - 1);
    }
}
