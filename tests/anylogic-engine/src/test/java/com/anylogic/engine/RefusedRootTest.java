package com.anylogic.engine;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A root agent that AnyLogic did not generate (no serialVersionUID) is refused by runFast, which
 * then ends the process with System.exit(-1). That would end the test JVM, so it runs in a child
 * JVM ({@link RefusedRun}).
 */
public class RefusedRootTest {
    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void aHandWrittenRootIsRefusedAndTheProcessEndsWithStatus255() throws IOException, InterruptedException {
        File output = folder.newFile("output.txt");
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String classpath = location(Engine.class) + File.pathSeparator + location(RefusedRun.class);
        Process child = new ProcessBuilder(java, "-cp", classpath, RefusedRun.class.getName())
                .redirectErrorStream(true).redirectOutput(output).start();
        assertTrue("the child JVM did not end", child.waitFor(120, TimeUnit.SECONDS));
        String printed = new String(Files.readAllBytes(output.toPath()), StandardCharsets.UTF_8);
        assertEquals(printed, 255, child.exitValue());
        assertTrue(printed, printed.contains("Invalid start location for AnyLogic Runtime\n"
                + "runFast true, FINISHED at time Infinity, 0 events run; waiting for the engine to end the process\n"));
    }

    /** The folder or jar that {@code type} was loaded from. */
    private static String location(Class<?> type) {
        try {
            return new File(type.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The child JVM: runs a hand-written root, reports, and waits for the engine's System.exit. */
    public static final class RefusedRun {
        public static void main(String[] args) throws InterruptedException {
            Engine engine = new Engine();
            engine.setExperiment(new TestExperiment());
            Agent root = new HandWritten(engine);
            engine.start(root);
            boolean result = engine.runFast();
            System.out.println("runFast " + result + ", " + engine.getState() + " at time " + engine.time() + ", "
                    + engine.getStep() + " events run; waiting for the engine to end the process");
            Thread.currentThread().join(); // forever: only the engine's exit ends this process
        }
    }

    /** A root agent written by hand: no serialVersionUID. */
    static final class HandWritten extends Agent {
        private final EventTimeout tick = new EventTimeout(this);

        HandWritten(Engine engine) {
            super(engine, null, null);
        }

        @Override
        public void doStart() {
            tick.start();
        }

        @Override
        public void executeActionOf(EventTimeout event) {
            System.out.println("an event ran");
        }
    }
}
