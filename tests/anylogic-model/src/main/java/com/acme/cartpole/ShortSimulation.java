package com.acme.cartpole;

import com.anylogic.engine.Engine;

/**
 * A second experiment of the model: stop time 1 (50 decisions: by the drift of the cyclic event's
 * times, the 51st would be at 1.0000000000000004). Tests run it by editing the launch script.
 */
public class ShortSimulation extends Simulation {
    private static final long serialVersionUID = 8021716352440872958L;

    @Override
    public void setupEngine(Engine engine) {
        engine.setStartTime(0);
        engine.setStopTime(1);
    }
}
