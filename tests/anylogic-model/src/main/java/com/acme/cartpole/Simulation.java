package com.acme.cartpole;

import com.anylogic.engine.Agent;
import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentSimulation;
import java.util.Random;

/**
 * The simulation experiment, shaped like the code AnyLogic generates: stop time 10 (500 decisions
 * of 0.02), a fixed seed of 1 for the default RNG ("Fixed seed" in the experiment's Randomness
 * settings), the root's parameters at their defaults. The launcher re-seeds the RNG per episode.
 */
public class Simulation extends ExperimentSimulation<Main> {
    public Simulation() {
    }

    @Override
    public Main createRoot(Engine engine) {
        return new Main(engine, null, null);
    }

    @Override
    public void setupRootParameters(final Main self, boolean callOnChange) {
        self.setParametersToDefaultValues();
    }

    @Override
    public void setupEngine(Engine engine) {
        engine.setStartTime(0);
        engine.setStopTime(10);
    }

    @Override
    public void initDefaultRandomNumberGenerator(Engine engine) {
        engine.setDefaultRandomGenerator(new Random(1));
    }

    /**
     * Runs one run as the exported application would: without alpyperl, so the connector answers
     * requestAction() itself if it is given a policy file, and fails otherwise.
     */
    public static void main(String[] args) {
        Simulation experiment = new Simulation();
        Engine engine = new Engine();
        engine.setExperiment(experiment);
        experiment.setupEngine(engine);
        experiment.initDefaultRandomNumberGenerator(engine);
        Agent root = experiment.createRoot(engine);
        experiment.setupRootParameters((Main) root, true);
        if (engine.start(root)) {
            engine.runFast();
        }
        System.out.println("the run ended at time " + engine.time() + " in state " + engine.getState());
        System.exit(engine.getState() == Engine.State.ERROR ? 1 : 0);
    }
}
