package com.alpyperl.launcher.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

/** The launcher's command line: help, version and one exit status rule (0 success, 1 failure, 2 usage). */
public class MainTest {

    /** What one run of the command line printed and returned. */
    private static final class Result {
        final int status;
        final String out;
        final String err;

        Result(int status, String out, String err) {
            this.status = status;
            this.out = out;
            this.err = err;
        }

        @Override
        public String toString() {
            return "status " + status + "\nout: " + out + "\nerr: " + err;
        }
    }

    private static Result execute(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.execute(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Result(status, new String(out.toByteArray(), StandardCharsets.UTF_8),
                new String(err.toByteArray(), StandardCharsets.UTF_8));
    }

    private static void assertContains(String text, String part, Result result) {
        assertTrue("expected '" + part + "' in:\n" + result, text.contains(part));
    }

    @Test
    public void eachCommandHasItsHelp() {
        for (String help : new String[] {"--help", "-h"}) {
            Result run = execute("run", help);
            assertEquals(run.toString(), 0, run.status);
            assertTrue(run.toString(), run.out.startsWith("usage: java -jar launcher.jar run --model DIR --policy FILE.onnx"));
            assertContains(run.out, "--max-steps N", run);
            assertContains(run.out, "exit status:", run);
            assertEquals("", run.err);
        }
        Result info = execute("info", "--model", "somewhere", "--help");
        assertEquals(info.toString(), 0, info.status);
        assertTrue(info.toString(), info.out.startsWith("usage: java -jar launcher.jar info --model DIR"));
        Result general = execute("--help");
        assertEquals(general.toString(), 0, general.status);
        assertContains(general.out, "java -jar launcher.jar COMMAND --help", general);
    }

    @Test
    public void versionIsTheManifestsImplementationVersion() {
        Result result = execute("--version");
        assertEquals(result.toString(), 0, result.status);
        // The test runs the classes from the build folder, where no manifest names a version.
        assertEquals(Main.class.getPackage().getImplementationVersion(), null);
        assertEquals("unknown", Main.version());
        assertEquals("alpyperl launcher unknown\n", result.out.replace("\r\n", "\n"));
    }

    @Test
    public void aWrongCommandLineExitsWith2() {
        String[][] cases = {
            {},
            {"fly", "--model", "m"},
            {"run", "--model"},
            {"run", "--model", "m", "--bogus", "1"},
            {"run", "--model", "m", "--bogus"},
            {"run", "--model", "m"},
            {"run", "--model", "m", "--policy", "p.onnx", "--episodes", "0"},
            {"info"},
            {"info", "--model", "m", "stray"},
            {"run", "--model", "m", "--policy", "machine="},
            {"run", "--model", "m", "--policy", "machine=a.onnx", "--policy", "machine=b.onnx"},
            {"run", "--model", "m", "--policy", "a.onnx", "--policy", "b.onnx"},
            {"run", "--model", "m", "--policy", "a.onnx", "--max-agents", "0"},
        };
        String[] messages = {
            "usage:",
            "unknown command 'fly'",
            "--model needs a value",
            "unknown option '--bogus'",
            "unknown option '--bogus'",
            "run needs --policy FILE.onnx",
            "--episodes needs a positive whole number",
            "info needs --model DIR",
            "unexpected 'stray'",
            "--policy machine= names no file",
            "--policy machine=... is given twice",
            "--policy FILE is given twice (a.onnx, b.onnx)",
            "--max-agents needs a positive whole number",
        };
        for (int i = 0; i < cases.length; i++) {
            Result result = execute(cases[i]);
            assertEquals(result.toString(), Main.USAGE, result.status);
            assertContains(result.err, messages[i], result);
        }
    }

    @Test
    public void aFailureExitsWith1() {
        Result noModel = execute("info", "--model", "no/such/model/folder");
        assertEquals(noModel.toString(), Main.FAILED, noModel.status);
        assertContains(noModel.err, "no/such/model/folder", noModel);
        Result noPolicy = execute("run", "--model", "no/such/model/folder", "--policy", "no/such/policy.onnx");
        assertEquals(noPolicy.toString(), Main.FAILED, noPolicy.status);
    }

    @Test
    public void theSummaryCountsOneEpisodeInTheSingular() {
        assertEquals("1 episode: mean return 2.500 (std 0.000, min 2.500, max 2.500), 1.0 steps per episode, "
                + "2 steps/s", Main.summary(new double[] {2.5}, 1, 0.5));
        assertTrue(Main.summary(new double[] {1, 2, 3}, 6, 1).startsWith("3 episodes: mean return 2.000 (std 0.816, "));
        assertEquals("1 agent type", Main.counted(1, "agent type"));
        assertEquals("0 agent types", Main.counted(0, "agent type"));
    }
}
