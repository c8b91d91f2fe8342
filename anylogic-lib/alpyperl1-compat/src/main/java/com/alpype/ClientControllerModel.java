package com.alpype;

import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLModel;
import com.alpyperl.connector.Space;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A 1.x model as alpyperl's connector sees it: the root agent's {@link ALPypeRLClientController}
 * with the spaces declared on its {@link ALPypeRLConnector}, actions boxed as 1.x boxes them.
 */
final class ClientControllerModel implements RLModel {
    private final ALPypeRLConnector connector;

    ClientControllerModel(ALPypeRLConnector connector) {
        this.connector = connector;
    }

    /** The AnyLogic engine of the 1.x connector agent (the connector's attach mode reaches it by reflection). */
    public Object getEngine() {
        return connector.engineOfAgent();
    }

    @Override
    public double[] getObservation() {
        Number[] observation = connector.controller().getObservation();
        if (observation == null) {
            return null;
        }
        double[] values = new double[observation.length];
        for (int i = 0; i < values.length; i++) {
            if (observation[i] == null) {
                throw new IllegalStateException("getObservation() returned null as value " + i);
            }
            values[i] = observation[i].doubleValue();
        }
        return values;
    }

    @Override
    public void takeAction(RLAction action) {
        List<Number> values = new ArrayList<>();
        box(action, values);
        com.alpype.RLAction boxed = new com.alpype.RLAction(values.toArray(new Number[0]));
        connector.applied(boxed);
        connector.controller().takeAction(boxed);
    }

    @Override
    public double getReward() {
        return connector.controller().getReward();
    }

    @Override
    public boolean hasFinished() {
        return connector.controller().hasFinished();
    }

    /** The observation space declared on the connector, or null when it is defined in Python. */
    @Override
    public Space getObservationSpace() {
        return connector.setSpaces && connector.observationSpace != null ? connector.observationSpace.toSpace() : null;
    }

    /** The action space declared on the connector, or null when it is defined in Python. */
    @Override
    public Space getActionSpace() {
        return connector.setSpaces && connector.actionSpace != null ? connector.actionSpace.toSpace() : null;
    }

    /** The action's values in the space's order: Integers for discrete parts, Doubles for Box parts. */
    private static void box(RLAction action, List<Number> values) {
        Space space = action.getSpace();
        if (space instanceof Space.Discrete) {
            values.add(action.asInt());
        } else if (space instanceof Space.Box) {
            for (double value : action.asDoubleArray()) {
                values.add(value);
            }
        } else if (space instanceof Space.MultiDiscrete || space instanceof Space.MultiBinary) {
            for (int value : action.asIntArray()) {
                values.add(value);
            }
        } else if (space instanceof Space.Tuple) {
            for (int i = 0; i < ((Space.Tuple) space).getSpaces().size(); i++) {
                box(action.get(i), values);
            }
        } else {
            for (Map.Entry<String, Space> entry : ((Space.Dict) space).getSpaces().entrySet()) {
                box(action.get(entry.getKey()), values);
            }
        }
    }
}
