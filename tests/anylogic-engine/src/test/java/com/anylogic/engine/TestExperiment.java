package com.anylogic.engine;

/** A simulation experiment for the tests' engines. */
class TestExperiment extends ExperimentSimulation<TestRoot> {
    @Override
    public TestRoot createRoot(Engine engine) {
        return new TestRoot(engine);
    }

    @Override
    public void setupRootParameters(TestRoot root, boolean callOnChange) {
    }
}
