package com.acme.cartpole;

import com.anylogic.engine.Agent;
import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentSimulation;
import java.util.Random;

/**
 * The simulation experiment, shaped like the code AnyLogic generates: stop time 10 (the event
 * {@code decide} occurs at 0, 0.02, ... and, as on AnyLogic's engine, also at the stop time: 501
 * decisions), a fixed seed of 1 for the default RNG ("Fixed seed" in the experiment's Randomness
 * settings), the root's parameters set to the experiment's values (through their setters, which
 * run On change code, only when {@code callOnChange}). The launcher re-seeds the RNG per episode.
 */
public class Simulation extends ExperimentSimulation<Main> {
    private static final long serialVersionUID = -3321608761454129045L;

    public Simulation() {
    }

    @Override
    public Main createRoot(Engine engine) {
        return new Main(engine, null, null);
    }

    @Override
    public void setupRootParameters(final Main self, boolean callOnChange) {
        double poleLength = 0.5;
        if (callOnChange) {
            self.set_poleLength(poleLength);
        } else {
            self.poleLength = poleLength;
        }
        double actionNoise = 0;
        if (callOnChange) {
            self.set_actionNoise(actionNoise);
        } else {
            self.actionNoise = actionNoise;
        }
        String fault = "none";
        if (callOnChange) {
            self.set_fault(fault);
        } else {
            self.fault = fault;
        }
        double faultTime = 0.1;
        if (callOnChange) {
            self.set_faultTime(faultTime);
        } else {
            self.faultTime = faultTime;
        }
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
        experiment.setCommandLineArguments_xjal(args);
        Engine engine = new Engine();
        engine.setExperiment(experiment);
        experiment.setupEngine(engine);
        experiment.initDefaultRandomNumberGenerator(engine);
        Agent root = experiment.createRoot(engine);
        experiment.setupRootParameters((Main) root, false);
        if (engine.start(root)) {
            engine.runFast();
        }
        System.out.println("the run ended at time " + engine.time() + " in state " + engine.getState());
        System.exit(engine.getState() == Engine.State.ERROR ? 1 : 0);
    }
}
