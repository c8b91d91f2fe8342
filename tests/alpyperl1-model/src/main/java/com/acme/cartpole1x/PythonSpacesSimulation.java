package com.acme.cartpole1x;

/** An experiment whose root leaves the spaces to Python (1.x's {@code setSpaces} false on the connector). */
public class PythonSpacesSimulation extends Simulation {
    private static final long serialVersionUID = 2790377624135860118L;

    @Override
    public void setupRootParameters(final Main self, boolean callOnChange) {
        super.setupRootParameters(self, callOnChange);
        self.declareSpaces = false;
    }
}
