package com.acme.cartpole1x;

import com.alpype.RLMode;
import com.anylogic.engine.Agent;
import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentSimulation;
import java.util.Random;

/**
 * The simulation experiment of the stand-in 1.x model, shaped like the generated one of the 1.x
 * examples: stop time 10, the root's parameters with rlMode TRAIN. Its {@code main} runs one run as
 * the exported application does, without alpyperl.
 */
public class Simulation extends ExperimentSimulation<Main> {
    private static final long serialVersionUID = 4416386262707406611L;

    @Override
    public Main createRoot(Engine engine) {
        return new Main(engine, null, null);
    }

    @Override
    public void setupRootParameters(final Main self, boolean callOnChange) {
        self.setParametersToDefaultValues();
        if (callOnChange) {
            self.set_rlMode(rlMode());
        } else {
            self.rlMode = rlMode();
        }
    }

    /** The RL mode the experiment gives the root agent. */
    protected RLMode rlMode() {
        return RLMode.TRAIN;
    }

    @Override
    public void setupEngine(Engine engine) {
        engine.setStartTime(0);
        engine.setStopTime(10);
    }

    @Override
    public void initDefaultRandomNumberGenerator(Engine engine) {
        engine.setDefaultRandomGenerator(new Random());
    }

    /** Runs one run as the exported application would: without alpyperl. */
    public static void main(String[] args) {
        run(new Simulation());
    }

    static void run(Simulation experiment) {
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
