package com.alpyperl.testmodels;

import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;

/** A model whose constructor always throws. Tests select it by editing a copy of the descriptor. */
public class ThrowingConstructorModel implements PlainJavaModel {
    private final RLConnector connector = new RLConnector(this);

    /** Always throws: this model cannot be created. */
    public ThrowingConstructorModel() {
        throw new IllegalStateException("ThrowingConstructorModel cannot be created");
    }

    @Override
    public void run() {
        connector.requestAction();
    }

    @Override
    public void takeAction(RLAction action) {
    }

    @Override
    public double[] getObservation() {
        return new double[0];
    }

    @Override
    public double getReward() {
        return 0;
    }

    @Override
    public boolean hasFinished() {
        return true;
    }
}
