package com.acme.swarm;

import com.anylogic.engine.Engine;
import com.anylogic.engine.ExperimentSimulation;
import java.util.Random;

/** The simulation experiment of {@link Swarm}, shaped like the code AnyLogic generates: stop time 5 (ticks 1 to 5). */
public class SwarmSimulation extends ExperimentSimulation<Swarm> {
    private static final long serialVersionUID = 4410372211734510870L;

    @Override
    public Swarm createRoot(Engine engine) {
        return new Swarm(engine, null, null);
    }

    @Override
    public void setupRootParameters(final Swarm self, boolean callOnChange) {
        self.walkers = 3;
    }

    @Override
    public void setupEngine(Engine engine) {
        engine.setStartTime(0);
        engine.setStopTime(5);
    }

    @Override
    public void initDefaultRandomNumberGenerator(Engine engine) {
        engine.setDefaultRandomGenerator(new Random(1));
    }
}
