package com.acme.cartpole;

import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentCustom;

/**
 * A custom experiment of the model, shaped like the one AnyLogic generates (ALPypeRL 1.x's
 * custom-experiment example): its run() builds an engine and a root agent and starts them. An
 * export launched with it still has the model's Simulation, which alpyperl runs.
 */
public class CustomExperiment extends ExperimentCustom {
    public CustomExperiment(Object parentExperiment) {
        super(parentExperiment);
    }

    @Override
    public void run() {
        Engine engine = createEngine();
        engine.setStopTime(10);
        Main root = new Main(engine, null, null);
        root.setParametersToDefaultValues();
        engine.start(root);
    }
}
