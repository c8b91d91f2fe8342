package com.alpyperl.connector;

import java.util.List;

/**
 * The contract of a model with several deciding agents, each an {@link RLAgent}. The model's root
 * (or main class) implements it and creates one {@link MultiAgentConnector}; agents join with
 * {@link MultiAgentConnector#addAgent(String, RLAgent)}, ask for decisions with {@link
 * MultiAgentConnector#requestAction(String)}, and {@link MultiAgentConnector#decide()} answers all
 * waiting agents at once.
 *
 * <p>Agents have the observation and action spaces of their agent type; all agents of a type share
 * them (and, in RLlib, usually one policy). The episode as a whole ends with {@link #hasFinished()}
 * (or {@link #isTruncated()}, or the end of the run); one agent leaves earlier with {@link
 * MultiAgentConnector#removeAgent(String)}.
 *
 * <p>It extends {@link RLModel} so that a plain Java model ({@link PlainJavaModel}) or an AnyLogic
 * root agent can implement it where a model is expected; the single-agent methods of {@link RLModel}
 * are not used (the agents observe, act and earn rewards).
 */
public interface MultiAgentModel extends RLModel {

    /** The names of the agent types, e.g. {@code ["machine"]} (non-empty, no two alike); an agent's id is its type, "_" and its number. */
    List<String> getAgentTypes();

    /** The observation space of the agents of {@code agentType}. */
    Space getObservationSpace(String agentType);

    /** The action space of the agents of {@code agentType}. */
    Space getActionSpace(String agentType);

    /**
     * Whether the agents of {@code agentType} say which actions are valid ({@link
     * RLAgent#getActionMask()}); only for Discrete and MultiDiscrete action spaces. Their observation
     * then reaches Python as {@code {"action_mask": ..., "observations": ...}}, the form RLlib's
     * action-masking RLModule takes. Default: false.
     */
    default boolean usesActionMask(String agentType) {
        return false;
    }

    /**
     * How many agents of {@code agentType} may take part in an episode at most: their numbers are 0
     * to n - 1 (RLlib wants every agent that may ever appear, its {@code possible_agents}, before the
     * first episode). 0 (the default) leaves it open, which alpyperl's environment accepts but RLlib
     * does not. Like the spaces, it must not depend on the model's parameters.
     */
    default int getPossibleAgents(String agentType) {
        return 0;
    }

    /** Not used by a multi-agent model: its agents observe ({@link RLAgent#getObservation()}). */
    @Override
    default double[] getObservation() {
        throw new UnsupportedOperationException("a MultiAgentModel has no observation of its own; its agents observe "
                + "(RLAgent.getObservation()). Use a MultiAgentConnector, not an RLConnector, in a multi-agent model");
    }

    /** Not used by a multi-agent model: its agents act ({@link RLAgent#takeAction(RLAction)}). */
    @Override
    default void takeAction(RLAction action) {
        throw new UnsupportedOperationException("a MultiAgentModel takes no action itself; its agents do "
                + "(RLAgent.takeAction()). Use a MultiAgentConnector, not an RLConnector, in a multi-agent model");
    }

    /** Not used by a multi-agent model: its agents earn rewards ({@link RLAgent#getReward()}). */
    @Override
    default double getReward() {
        throw new UnsupportedOperationException("a MultiAgentModel has no reward of its own; its agents earn them "
                + "(RLAgent.getReward()). Use a MultiAgentConnector, not an RLConnector, in a multi-agent model");
    }
}
