package com.alpyperl.connector;

/**
 * The contract between a simulation model and reinforcement learning. The model's root agent
 * (or main class) implements it and creates one {@link RLConnector}; at each decision point it
 * calls {@link RLConnector#requestAction()}.
 *
 * <p>All methods are called on the model's own thread, at a decision point or at the end of the
 * run, never while model code is running.
 */
public interface RLModel {

    /**
     * The current observation as numbers, laid out flat as the observation space says: one value
     * for Discrete, every element of a Box in row-major order, one value per entry of
     * MultiDiscrete or MultiBinary, the parts of a Tuple or Dict one after another in their order.
     * Mind the order of a Dict defined in Python: {@code gymnasium.spaces.Dict({...})} sorts its
     * keys; {@link RLConnector#getObservationSpace()} shows the order in use.
     */
    double[] getObservation();

    /** Applies the action the policy chose. Called inside {@link RLConnector#requestAction()}. */
    void takeAction(RLAction action);

    /**
     * The reward earned since the previous decision point. Called exactly once per decision point
     * and once at the end of the run, so a model that accumulates reward may reset it here. What is
     * earned before the first decision point is not reported (an episode starts with a reset).
     */
    double getReward();

    /** Whether the episode has reached a terminal state (the task succeeded or failed for good). */
    boolean hasFinished();

    /**
     * Whether the episode stops for an outside reason, such as a time limit, although it has not
     * finished. A run that ends without {@link #hasFinished()} is a truncation anyway.
     */
    default boolean isTruncated() {
        return false;
    }

    /** The observation space, or {@code null} when it is defined in Python. */
    default Space getObservationSpace() {
        return null;
    }

    /** The action space, or {@code null} when it is defined in Python. */
    default Space getActionSpace() {
        return null;
    }
}
