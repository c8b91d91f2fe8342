package com.anylogic.engine;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/**
 * Embedded agents as AnyLogic's generated code makes them: constructed with (engine, owner, null)
 * in the owner's constructor, created and started by the owner's doCreate and doStart, listed by
 * getEmbeddedObjects, destroyed and finished by the owner's onDestroy and doFinish.
 */
public class EmbeddedAgentTest {
    private final List<String> log = new ArrayList<>();

    /** An embedded agent with an event at time 1 that pauses the run. */
    class Child extends Agent {
        private static final long serialVersionUID = 1L;
        final EventTimeout alarm = new EventTimeout(this);

        Child(Engine engine, Agent owner) {
            super(engine, owner, null);
        }

        @Override
        public void doCreate() {
            log.add("child doCreate");
        }

        @Override
        public void onCreate() {
            log.add("child onCreate");
        }

        @Override
        public void doStart() {
            alarm.start();
        }

        @Override
        public void onStartup() {
            log.add("child onStartup, alarm active " + alarm.isActive());
        }

        @Override
        public EventTimeout.Mode getModeOf(EventTimeout event) {
            return EventTimeout.Mode.EVENT_TIMEOUT_MODE_ONCE;
        }

        @Override
        public double getFirstOccurrenceTime(EventTimeout event) {
            return 1;
        }

        @Override
        public void executeActionOf(EventTimeout event) {
            log.add("child alarm at " + time() + ", root " + getRootAgent().getClass().getSimpleName());
            assertTrue(pauseSimulation());
        }

        @Override
        public void doFinish() {
            log.add("child doFinish");
        }

        @Override
        public void onDestroy() {
            alarm.onDestroy();
            log.add("child onDestroy");
        }
    }

    /** The root, with one embedded Child. */
    class Root extends Agent {
        private static final long serialVersionUID = 1L;
        final Child child;

        Root(Engine engine) {
            super(engine, null, null);
            child = new Child(engine, this);
        }

        @Override
        public void doCreate() {
            log.add("root doCreate");
            child.setEnvironment(this);
            child.createAsEmbedded();
        }

        @Override
        public void onCreate() {
            log.add("root onCreate");
        }

        @Override
        public void doStart() {
            child.startAsEmbedded();
        }

        @Override
        public List<Object> getEmbeddedObjects() {
            return new ArrayList<>(Arrays.asList(child));
        }

        @Override
        public void onStartup() {
            log.add("root onStartup");
        }

        @Override
        public void doFinish() {
            child.doFinish();
        }

        @Override
        public void onDestroy() {
            child.onDestroy();
        }
    }

    @Test
    public void anEmbeddedAgentIsCreatedStartedRunAndDestroyedWithItsOwner() {
        Engine engine = new Engine();
        engine.setExperiment(new TestExperiment());
        engine.setStopTime(5);
        Root root = new Root(engine);
        assertSame(root, root.child.getRootAgent());
        assertSame(root, root.child.getOwner());
        assertSame(engine, root.child.getEngine());

        assertTrue(engine.start(root));
        assertEquals(Arrays.asList("root doCreate", "child doCreate", "child onCreate", "root onCreate",
                "child onStartup, alarm active true", "root onStartup"), log);
        assertSame(root, root.child.getEnvironment());

        log.clear();
        assertTrue(engine.runFast()); // the child's event pauses the run
        assertEquals(Engine.State.PAUSED, engine.getState());
        assertEquals(Arrays.asList("child alarm at 1.0, root Root"), log);
        assertTrue(engine.runFast());
        assertEquals(Engine.State.FINISHED, engine.getState());
        assertEquals(5.0, engine.time(), 0);
        assertEquals(Arrays.asList("child alarm at 1.0, root Root", "child doFinish"), log);

        log.clear();
        assertTrue(engine.stop());
        assertEquals(Arrays.asList("child onDestroy"), log);
        assertFalse(root.child.alarm.isActive());
    }
}
