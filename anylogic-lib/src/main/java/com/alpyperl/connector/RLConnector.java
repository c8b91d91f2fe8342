package com.alpyperl.connector;

import java.util.Objects;
import java.util.Random;

/**
 * Connects a model to reinforcement learning. Create one in the model's root, passing the model
 * (which implements {@link RLModel}), and call {@link #requestAction()} at every decision point:
 * <pre>{@code
 * RLConnector connector = new RLConnector(this);
 * ...
 * connector.requestAction();   // the chosen action has been applied when this returns
 * }</pre>
 *
 * <p>Who chooses the action depends on where the model runs: under alpyperl training, Python's
 * policy does; the connector finds that out by itself, so the same model code serves both.
 * Use {@link #getRandom()} for all of the model's randomness, so that a seed replays an episode.
 */
public final class RLConnector {
    private final RLModel model;
    private final ConnectorHost host;
    private final Random random;

    /** Connects {@code model}; the model must implement the {@link RLModel} contract. */
    public RLConnector(RLModel model) {
        this.model = Objects.requireNonNull(model, "the model must not be null");
        this.host = ConnectorHost.forCurrentThread();
        this.random = host != null ? new Random(host.episodeSeed()) : new Random();
        if (host != null) {
            host.attach(this);
        }
    }

    /**
     * A decision point: reports the current observation and reward, waits for the policy's
     * action and applies it with {@link RLModel#takeAction(RLAction)} before returning.
     */
    public void requestAction() {
        if (host == null) {
            throw new IllegalStateException("Nobody answers requestAction(): this model runs without alpyperl. "
                    + "Train it from Python (alpyperl.AnyLogicEnv opens the exported model), "
                    + "or evaluate it with a trained policy file.");
        }
        host.decide(this);
    }

    /** The random number generator of this episode, seeded from the episode's seed. */
    public Random getRandom() {
        return random;
    }

    /**
     * The observation space in use, wherever it was defined (model or Python); {@code null} while
     * the model is first created to read its spaces. A model whose spaces are defined in Python
     * can use it to lay out its observation (the parts of a Dict come in the space's key order).
     */
    public Space getObservationSpace() {
        return host != null ? host.observationSpace() : model.getObservationSpace();
    }

    /** The action space in use, wherever it was defined; see {@link #getObservationSpace()}. */
    public Space getActionSpace() {
        return host != null ? host.actionSpace() : model.getActionSpace();
    }

    /** The model this connector serves. */
    public RLModel getModel() {
        return model;
    }
}
