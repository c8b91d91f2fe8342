package com.acme.cartpole;

import com.anylogic.engine.Engine;

/** The simulation experiment of {@link MaskedMain}: {@link Simulation}'s, with the masked root. */
public class MaskedSimulation extends Simulation {
    private static final long serialVersionUID = 3087314612985140214L;

    @Override
    public Main createRoot(Engine engine) {
        return new MaskedMain(engine, null, null);
    }
}
