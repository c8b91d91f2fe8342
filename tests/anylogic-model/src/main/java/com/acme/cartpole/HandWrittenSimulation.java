package com.acme.cartpole;

import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentSimulation;

/** For alpyperl's tests: an experiment, written by hand, whose root agent ({@link HandWrittenMain}) AnyLogic did not generate. */
public class HandWrittenSimulation extends ExperimentSimulation<HandWrittenMain> {
    @Override
    public HandWrittenMain createRoot(Engine engine) {
        return new HandWrittenMain(engine, null, null);
    }

    @Override
    public void setupRootParameters(HandWrittenMain root, boolean callOnChange) {
    }

    @Override
    public void setupEngine(Engine engine) {
        engine.setStopTime(10);
    }
}
