package com.alpyperl.connector;

/**
 * One deciding agent of a multi-agent model (a machine, a vehicle, a traffic light): its own
 * observation, action and reward. It joins the episode with {@link
 * MultiAgentConnector#addAgent(String, RLAgent)} and asks for decisions with {@link
 * MultiAgentConnector#requestAction(String)}. Its spaces are those of its agent type ({@link
 * MultiAgentModel#getObservationSpace(String)}).
 *
 * <p>All methods are called on the model's own thread inside {@link MultiAgentConnector#decide()}
 * (or at the end of the run), never while other model code runs.
 */
public interface RLAgent {

    /** The agent's observation now, laid out flat as its type's observation space says (see {@link RLModel#getObservation()}). */
    double[] getObservation();

    /** Applies the action chosen for this agent. Called inside {@link MultiAgentConnector#decide()}. */
    void takeAction(RLAction action);

    /**
     * The reward this agent earned since its previous decision. Called once each time the agent's
     * decision (or its end) is reported, so an agent that accumulates reward may reset it here.
     */
    double getReward();

    /**
     * Which actions are valid now, for an agent type whose {@link MultiAgentModel#usesActionMask(String)}
     * is true: one entry per choice, {@code n} for {@code Discrete(n)}, the sum of {@code nvec} for
     * {@code MultiDiscrete(nvec)} (the choices of each entry one after another). At least one choice
     * of each entry must be valid. {@code null} (the default) means every action is valid.
     */
    default boolean[] getActionMask() {
        return null;
    }
}
