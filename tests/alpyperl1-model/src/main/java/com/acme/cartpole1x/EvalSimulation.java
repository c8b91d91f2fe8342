package com.acme.cartpole1x;

import com.alpype.RLMode;

/** The evaluation experiment of the stand-in 1.x model (the 1.x examples' {@code *_eval} exports): rlMode EVALUATE. */
public class EvalSimulation extends Simulation {
    private static final long serialVersionUID = -6129472839174512239L;

    @Override
    protected RLMode rlMode() {
        return RLMode.EVALUATE;
    }

    /** Runs one run as the exported application would: without alpyperl. */
    public static void main(String[] args) {
        run(new EvalSimulation());
    }
}
