package com.acme.cartpole;

import com.anylogic.engine.Engine;

/** A second experiment of the model: stop time 1 (50 decisions). Tests run it by editing the launch script. */
public class ShortSimulation extends Simulation {
    @Override
    public void setupEngine(Engine engine) {
        engine.setStartTime(0);
        engine.setStopTime(1);
    }
}
