package com.anylogic.engine;

/**
 * TEST DOUBLE of AnyLogic's simulation experiment: the generated {@code Simulation} class of a
 * model extends it and says how to create and configure one run ({@link #createRoot}, {@link
 * #setupEngine}, {@link #initDefaultRandomNumberGenerator}, {@link #setupRootParameters}).
 */
public abstract class ExperimentSimulation<ROOT extends Agent> extends Experiment<ROOT> {
    /** The experiment; generated experiments have a public constructor without arguments. */
    public ExperimentSimulation() {
    }

    /**
     * Sets the root's parameters to the experiment's values. Generated code calls each
     * parameter's setter (which runs its On change code) when {@code callOnChange}, else sets the
     * field; AnyLogic's own run flow passes false, because On change code must run only on an
     * agent that has been created.
     */
    public abstract void setupRootParameters(ROOT root, boolean callOnChange);
}
