package com.alpyperl.testmodels;

import com.alpyperl.connector.Space;

/**
 * {@link SwarmModel} whose walkers leave their spaces to Python: {@code getObservationSpace("walker")}
 * and {@code getActionSpace("walker")} return null (Python passes Box(2) and Discrete(3) by type);
 * the scouts keep the model's spaces.
 */
public class PythonSpacesSwarmModel extends SwarmModel {
    @Override
    public Space getObservationSpace(String agentType) {
        return agentType.equals("walker") ? null : super.getObservationSpace(agentType);
    }

    @Override
    public Space getActionSpace(String agentType) {
        return agentType.equals("walker") ? null : super.getActionSpace(agentType);
    }
}
