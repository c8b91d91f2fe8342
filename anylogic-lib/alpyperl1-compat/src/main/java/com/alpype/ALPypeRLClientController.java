package com.alpype;

import com.anylogic.engine.Agent;

/**
 * The contract of an ALPypeRL 1.x root agent (its Advanced Java "Implements" field), as in 1.x.
 * alpyperl reads the observation, reward and finished flag at each decision and applies the
 * chosen action with {@link #takeAction(RLAction)} inside {@code requestAction()}.
 */
public interface ALPypeRLClientController {

    /** Applies the action the policy chose. */
    void takeAction(RLAction action);

    /** The current observation, laid out as the observation space says (Integers for discrete parts). */
    Number[] getObservation();

    /** The reward of the last decision. */
    double getReward();

    /** Whether the episode has reached a terminal state. */
    boolean hasFinished();

    /** Sets the parameter {@code name} of {@code agent} (with its On change code) if it has one. */
    default void setParameter(Agent agent, String name, Object value) {
        for (String known : agent.getParameterNames()) {
            if (known.equals(name)) {
                agent.setParameter(name, value, true);
                return;
            }
        }
    }

    /** In 1.x, for root agents that override it; by default there is no such parameter. */
    default void setParameter(String name, Object value) {
        throw new Error("Could not find parameter '" + name + "' in the root agent");
    }
}
