package com.acme.cartpole.custom;

import com.acme.cartpole.Main;
import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentCustom;

/** For alpyperl's error tests: a custom experiment in a package without a simulation experiment. */
public class OnlyCustomExperiment extends ExperimentCustom {
    public OnlyCustomExperiment(Object parentExperiment) {
        super(parentExperiment);
    }

    @Override
    public void run() {
        Engine engine = createEngine();
        engine.start(new Main(engine, null, null));
    }
}
