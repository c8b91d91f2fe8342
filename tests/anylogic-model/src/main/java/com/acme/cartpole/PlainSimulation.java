package com.acme.cartpole;

import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentSimulation;

/** For alpyperl's error tests: an experiment whose root agent ({@link PlainMain}) does not implement RLModel. */
public class PlainSimulation extends ExperimentSimulation<PlainMain> {
    private static final long serialVersionUID = 2904125329848164703L;

    @Override
    public PlainMain createRoot(Engine engine) {
        return new PlainMain(engine, null, null);
    }

    @Override
    public void setupRootParameters(final PlainMain self, boolean callOnChange) {
        self.setParametersToDefaultValues();
    }

    @Override
    public void setupEngine(Engine engine) {
        engine.setStopTime(10);
    }

    @Override
    public void initDefaultRandomNumberGenerator(Engine engine) {
    }
}
