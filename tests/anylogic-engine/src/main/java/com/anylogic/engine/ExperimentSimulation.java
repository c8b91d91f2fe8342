package com.anylogic.engine;

/**
 * TEST DOUBLE of AnyLogic's simulation experiment: the generated {@code Simulation} class of a
 * model extends it and says how to create and configure one run.
 */
public abstract class ExperimentSimulation<ROOT extends Agent> extends Experiment<ROOT> {
    protected ExperimentSimulation() {
    }

    /** Constructs the root agent for {@code engine}. */
    public abstract ROOT createRoot(Engine engine);

    /** Applies the experiment's engine settings (stop time, ...). */
    public abstract void setupEngine(Engine engine);

    /** Seeds the engine's default RNG as the experiment is configured. */
    public abstract void initDefaultRandomNumberGenerator(Engine engine);

    /** Sets the root's parameters to the experiment's values. */
    public abstract void setupRootParameters(ROOT root, boolean callOnChange);
}
