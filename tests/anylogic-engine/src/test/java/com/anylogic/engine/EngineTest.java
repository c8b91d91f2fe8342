package com.anylogic.engine;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The stand-in engine behaves as AnyLogic 8.7.12's was measured to (anylogic-api.md, "Real engine behaviour"). */
public class EngineTest {
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private PrintStream originalErr;
    private final Engine engine = new Engine();
    private final TestRoot root = new TestRoot(engine);

    @Before
    public void captureSystemErr() {
        originalErr = System.err;
        System.setErr(new PrintStream(printed, true));
        engine.setExperiment(new TestExperiment());
        engine.setStopTime(10);
    }

    @After
    public void restoreSystemErr() {
        System.setErr(originalErr);
    }

    private String printed() {
        return new String(printed.toByteArray(), StandardCharsets.UTF_8);
    }

    @Test
    public void aCyclicEventAddsItsPeriodAndStillRunsAtTheStopTime() {
        assertTrue(engine.start(root));
        assertTrue(engine.runFast());
        assertEquals(Engine.State.FINISHED, engine.getState());
        assertEquals(501, root.tickTimes.size());
        assertEquals(0.0, root.tickTimes.get(0), 0);
        assertEquals(0.1, root.tickTimes.get(5), 0);
        assertEquals(9.999999999999876, root.tickTimes.get(500), 0); // drifted: 500 additions of 0.02
        assertEquals(10.0, engine.time(), 0);
        assertEquals(501, engine.getStep());
        assertTrue(root.finished); // doFinish() when the run finishes
    }

    @Test
    public void anEventExactlyAtTheStopTimeRuns() {
        root.mode = EventTimeout.Mode.EVENT_TIMEOUT_MODE_ONCE;
        root.firstTick = 10;
        engine.start(root);
        engine.runFast();
        assertEquals(1, root.tickTimes.size());
        assertEquals(Engine.State.FINISHED, engine.getState());
    }

    @Test
    public void anExceptionInOnStartupIsPrintedAndStartReturnsTrueWithStateError() {
        root.startupFault = () -> new IllegalArgumentException("no track");
        assertTrue(engine.start(root));
        assertEquals(Engine.State.ERROR, engine.getState());
        String text = printed();
        assertTrue(text, text.startsWith("Error during model startup:\njava.lang.IllegalArgumentException: no track\n"));
        assertTrue(text, text.contains("at com.anylogic.engine.TestRoot.onStartup("));
    }

    @Test
    public void anExceptionInAnInitialValueEscapesStartAndNothingIsPrinted() {
        root.initialValueFault = new IllegalStateException("bad initial value");
        try {
            engine.start(root);
            fail("start() returned");
        } catch (IllegalStateException e) {
            assertSame(root.initialValueFault, e);
        }
        assertEquals("", printed());
        assertTrue(root.tickTimes.isEmpty());
    }

    @Test
    public void anExceptionInAnEventIsPrintedWithItsMessageAndRunFastReturnsTrueWithStateError() {
        root.eventFault = () -> new IllegalStateException("the pole broke");
        engine.start(root);
        assertTrue(engine.runFast());
        assertEquals(Engine.State.ERROR, engine.getState());
        assertEquals(0.0, engine.time(), 0);
        String text = printed();
        assertTrue(text, text.startsWith("Exception during discrete event execution:\nthe pole broke\n"
                + "java.lang.IllegalStateException: the pole broke\n"));
        assertTrue(text, text.contains("at com.anylogic.engine.TestRoot.executeActionOf("));
    }

    @Test
    public void anErrorInAnEventIsCaughtTheSameWay() {
        root.eventFault = () -> new AssertionError("derailed");
        engine.start(root);
        assertTrue(engine.runFast());
        assertEquals(Engine.State.ERROR, engine.getState());
        assertTrue(printed(), printed().startsWith("Exception during discrete event execution:\nderailed\n"
                + "java.lang.AssertionError: derailed\n"));
    }

    @Test
    public void stopRunsOnDestroyAndAWellBehavedRootLeavesNoEvents() {
        engine.start(root);
        engine.runFast(); // FINISHED with the next tick still scheduled
        assertTrue(root.tick.isActive());
        assertTrue(engine.stop());
        assertTrue(root.destroyed);
        assertFalse(root.tick.isActive());
        assertEquals(Engine.State.IDLE, engine.getState());
        assertNull(engine.getRoot());
        assertEquals("", printed());
        assertFalse(engine.stop()); // already IDLE
    }

    @Test
    public void stopReportsEventsThatOnDestroyLeftScheduled() {
        root.destroysItsEvents = false;
        engine.start(root);
        engine.stop();
        assertTrue(root.destroyed);
        assertEquals("INTERNAL ERROR(S): Engine still has 1 events scheduled\n", printed());
        assertEquals(Engine.State.IDLE, engine.getState());
    }

    @Test
    public void pauseAndFinishFromAnEvent() {
        engine.setStopTime(Double.POSITIVE_INFINITY);
        TestRoot pausing = new TestRoot(engine) {
            private static final long serialVersionUID = 1L;

            @Override
            public void executeActionOf(EventTimeout event) {
                super.executeActionOf(event);
                if (tickTimes.size() == 3) {
                    assertTrue(pauseSimulation());
                } else if (tickTimes.size() == 5) {
                    finishSimulation();
                }
            }
        };
        engine.start(pausing);
        assertTrue(engine.runFast());
        assertEquals(Engine.State.PAUSED, engine.getState());
        assertEquals(3, pausing.tickTimes.size());
        assertTrue(engine.runFast());
        assertEquals(Engine.State.FINISHED, engine.getState());
        assertEquals(5, pausing.tickTimes.size());
        assertTrue(pausing.finished);
    }

    @Test
    public void aReusedEngineCountsItsRuns() {
        engine.start(root);
        assertEquals(1, engine.getRunCount());
        engine.stop();
        TestRoot second = new TestRoot(engine);
        engine.start(second);
        engine.runFast();
        assertEquals(2, engine.getRunCount());
        assertEquals(501, second.tickTimes.size());
        assertEquals(10.0, engine.getStopTime(), 0);
    }

    @Test
    public void withoutAnExperimentTheEngineWarns() {
        Engine alone = new Engine();
        alone.start(new TestRoot(alone));
        assertTrue(printed(), printed().startsWith("Warning: the engine has no experiment"));
    }

    @Test
    public void runFastBeforeStartIsRefused() {
        assertFalse(engine.runFast());
        assertEquals(Engine.State.IDLE, engine.getState());
    }
}
