package com.alpyperl.testmodels;

import com.alpyperl.connector.Space;

/**
 * {@link FaultyModel} with both spaces left to Python (any action space; the observation space
 * must hold 3 values). Tests select it by editing a copy of the model folder's descriptor.
 */
public class PythonSpacesModel extends FaultyModel {

    @Override
    public Space getObservationSpace() {
        return null;
    }

    @Override
    public Space getActionSpace() {
        return null;
    }
}
