package com.anylogic.engine;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.fail;

import org.junit.Test;

public class ExperimentCustomTest {
    /** A custom experiment as a model would write one: an engine with stop time 3, run by hand. */
    static final class Custom extends ExperimentCustom {
        Engine engine;

        Custom(Object parent) {
            super(parent);
        }

        @Override
        public void setupEngine_xjal(Engine engine) {
            engine.setStopTime(3);
        }

        @Override
        public void run() {
            engine = createEngine();
        }
    }

    @Test
    public void createEngineLinksAndSetsUpTheEngine() {
        Custom custom = new Custom(null);
        custom.run();
        assertSame(custom, custom.engine.getExperimentCustom());
        assertNull(custom.engine.getExperiment());
        assertEquals(3.0, custom.engine.getStopTime(), 0);
    }

    @Test
    public void commandLineArgumentsAreEmptyUntilSet() {
        Custom custom = new Custom(new TestExperiment());
        assertArrayEquals(new String[0], custom.getCommandLineArguments());
        custom.setCommandLineArguments_xjal(new String[] {"--x"});
        assertArrayEquals(new String[] {"--x"}, custom.getCommandLineArguments());
        TestExperiment experiment = new TestExperiment();
        assertArrayEquals(new String[0], experiment.getCommandLineArguments());
    }

    @Test
    public void theParentMustBeAnExperiment() {
        try {
            new Custom("not an experiment");
            fail("accepted a String as parent");
        } catch (IllegalArgumentException e) {
            assertEquals("the parent of a custom experiment must be an experiment or null, not java.lang.String",
                    e.getMessage());
        }
    }
}
