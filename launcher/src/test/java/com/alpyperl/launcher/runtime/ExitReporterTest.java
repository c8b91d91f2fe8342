package com.alpyperl.launcher.runtime;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.junit.Test;

public class ExitReporterTest {
    /** The model's classes in these tests: its own and the AnyLogic engine's. */
    private static final Predicate<String> MODEL = name -> name.startsWith("com.acme.") || name.startsWith("com.anylogic.");

    /** The frames of a thread waiting in System.exit for the shutdown hooks, above {@code callers}. */
    private static StackTraceElement[] exiting(StackTraceElement... callers) {
        List<StackTraceElement> stack = new ArrayList<>(Arrays.asList(
                frame("java.lang.Object", "wait"),
                frame("java.lang.Thread", "join"),
                frame("java.lang.ApplicationShutdownHooks", "runHooks"),
                frame("java.lang.Shutdown", "runHooks"),
                frame("java.lang.Shutdown", "exit"),
                frame("java.lang.Runtime", "exit"),
                frame("java.lang.System", "exit")));
        stack.addAll(Arrays.asList(callers));
        return stack.toArray(new StackTraceElement[0]);
    }

    private static StackTraceElement frame(String type, String method) {
        return new StackTraceElement("app", null, null, type, method, type.substring(type.lastIndexOf('.') + 1) + ".java", 42);
    }

    @Test
    public void aModelsExitNamesTheThreadAndShowsItsStackFromSystemExit() {
        String message = ExitReporter.message("alpyperl model CartPole#1", exiting(
                frame("com.acme.cartpole.Main", "executeActionOf"),
                frame("com.anylogic.engine.EventTimeout", "execute"),
                frame("com.anylogic.engine.Engine", "runFast"),
                frame("com.alpyperl.launcher.ModelWorker", "runEpisode")), MODEL);
        assertTrue(message, message.startsWith("alpyperl: the model's Java code ended this process: System.exit(...) was "
                + "called on thread \"alpyperl model CartPole#1\". Its stack:\n\tat java.lang.System.exit(System.java:42)\n"
                + "\tat com.acme.cartpole.Main.executeActionOf(Main.java:42)\n"));
        assertTrue(message, message.endsWith("\tat com.alpyperl.launcher.ModelWorker.runEpisode(ModelWorker.java:42)\n"));
        assertFalse(message, message.contains("Shutdown"));
        assertFalse(message, message.contains("app//")); // frames as in the model's own stack traces
        // The engine only ran the event: the model called exit, so the AnyLogic explanation would mislead.
        assertFalse(message, message.contains("Invalid start location"));
    }

    @Test
    public void anExitByTheAnyLogicEngineSaysThatOnlyExportedModelsRun() {
        String message = ExitReporter.message("Thread-7", exiting(
                frame("java.lang.reflect.Method", "invoke"),
                frame("com.anylogic.engine.internal.Ab", "run"),
                frame("java.lang.Thread", "run")), MODEL);
        assertTrue(message, message.contains("System.exit(...) was called on thread \"Thread-7\""));
        assertTrue(message, message.contains("\tat com.anylogic.engine.internal.Ab.run(Ab.java:42)\n"));
        assertTrue(message, message.endsWith("alpyperl: the AnyLogic engine ends the process this way when it refuses a "
                + "model that AnyLogic did not generate (it prints \"Invalid start location for AnyLogic Runtime\" "
                + "first): only models exported by AnyLogic can run, so export the model from AnyLogic (File > Export > "
                + "To standalone Java application)\n"));
    }

    @Test
    public void runtimeExitIsNamedAsSuch() {
        StackTraceElement[] stack = {
            frame("java.lang.Shutdown", "exit"), frame("java.lang.Runtime", "exit"), frame("com.acme.Model", "quit")};
        assertTrue(ExitReporter.message("m", stack, MODEL).contains("Runtime.exit(...) was called on thread \"m\""));
    }

    @Test
    public void exitsWithoutModelCodeAndThreadsNotInExitAreNotReported() {
        // The host ends the process: the launcher's command line, a test runner, Python through JPype.
        assertNull(ExitReporter.message("main", exiting(frame("com.alpyperl.launcher.cli.Main", "main")), MODEL));
        assertNull(ExitReporter.message("main", exiting(frame("worker.org.gradle.GradleWorkerMain", "main")), MODEL));
        assertNull(ExitReporter.message("main", exiting(), MODEL));
        // A model thread that is not exiting.
        assertNull(ExitReporter.message("worker", new StackTraceElement[] {
            frame("java.lang.Object", "wait"), frame("com.acme.cartpole.Main", "run")}, MODEL));
        assertNull(ExitReporter.message("empty", new StackTraceElement[0], MODEL));
    }
}
