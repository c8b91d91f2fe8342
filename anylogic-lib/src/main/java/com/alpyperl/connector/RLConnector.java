package com.alpyperl.connector;

import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Connects a model to reinforcement learning. Create one in the model's root, passing the model
 * (which implements {@link RLModel}), and call {@link #requestAction()} at every decision point:
 * <pre>{@code
 * RLConnector connector = new RLConnector(this).usePolicy("cartpole.onnx");
 * ...
 * connector.requestAction();   // the chosen action has been applied when this returns
 * }</pre>
 *
 * <p>Who chooses the action depends on where the model runs, and the same model code serves both:
 * <ul>
 *   <li><b>Training</b>: when alpyperl runs the model (from Python, or the launcher's command
 *       line), the policy being trained chooses; a policy file given here is then not used.</li>
 *   <li><b>Training without exporting</b> (attach mode): when the connector is set to train
 *       ({@link #attachToPython()}, or the system property {@code alpyperl.attach=true}, or the
 *       environment variable {@code ALPYPERL_ATTACH=1}) and the model runs in AnyLogic itself (the
 *       Run button) or in an export started by its own launch script, it connects at its first
 *       decision to the Python {@code AnyLogicEnv(attach=True)} that waits for it, and Python
 *       drives the model as in-process (see docs/anylogic.md, "Training without exporting").</li>
 *   <li><b>Evaluation</b>: anywhere else (the AnyLogic IDE, an exported application, AnyLogic
 *       Cloud), the connector answers with the exported ONNX policy given by {@link
 *       #usePolicy(String)}, or else by the system property {@code alpyperl.policy} or the
 *       environment variable {@code ALPYPERL_POLICY}. It announces the mode once on the console.</li>
 * </ul>
 * Use {@link #getRandom()} for all of the model's randomness, so that a seed replays an episode.
 */
public final class RLConnector {
    private final RLModel model;
    private final long episodeSeed;
    private final Random random;
    /** Who answers: alpyperl (bound when the model was created) or, resolved at first use, a policy. */
    private ConnectorHost host;
    private String policyFile;
    private boolean sampling;
    private boolean attach;

    /** Connects {@code model}; the model must implement the {@link RLModel} contract. */
    public RLConnector(RLModel model) {
        this.model = Objects.requireNonNull(model, "the model must not be null");
        this.host = ConnectorHost.forCurrentThread();
        this.episodeSeed = host != null ? host.episodeSeed() : new Random().nextLong();
        this.random = randomOfEpisode(episodeSeed);
        if (host != null) {
            host.attach(this);
        }
    }

    /**
     * Evaluation mode: answers {@link #requestAction()} with the policy exported by {@code
     * alpyperl export} to {@code policyFile} (a path, relative to the model's working folder).
     * Ignored, with a note on the console, while alpyperl trains the model. The file is read at
     * the first decision; several model instances share one loaded policy. Returns this connector.
     */
    public RLConnector usePolicy(String policyFile) {
        this.policyFile = Objects.requireNonNull(policyFile, "the policy file must not be null");
        if (host != null) {
            PolicyAnswers.announce("training mode: alpyperl chooses the actions; the policy file " + policyFile
                    + " given to usePolicy() is not used");
        }
        return this;
    }

    /**
     * Training without exporting: when alpyperl's launcher does not run the model (it runs in
     * AnyLogic itself, or in an export started by its own launch script), the connector attaches
     * at its first decision to the Python environment waiting for it ({@code AnyLogicEnv(attach=True)},
     * found through the connection file it writes), which then runs the episodes. Under alpyperl's
     * launcher this changes nothing. Returns this connector.
     */
    public RLConnector attachToPython() {
        this.attach = true;
        return this;
    }

    /**
     * In evaluation mode, draws actions from the policy's distribution with {@link #getRandom()}
     * instead of taking the most likely one (the default). Returns this connector.
     */
    public RLConnector sampleActions(boolean sample) {
        this.sampling = sample;
        return this;
    }

    /**
     * A decision point: reports the current observation and reward, waits for the policy's
     * action and applies it with {@link RLModel#takeAction(RLAction)} before returning.
     */
    public void requestAction() {
        ConnectorHost answering = evaluationHostIfNeeded();
        if (answering == null) {
            throw new IllegalStateException("Nobody answers requestAction(): this model runs neither under alpyperl "
                    + "training nor with a policy. To train it, open the exported model from Python "
                    + "(alpyperl.AnyLogicEnv), or, to train it running in AnyLogic itself, call attachToPython() on "
                    + "the connector and start AnyLogicEnv(attach=True) in Python before pressing Run. To evaluate "
                    + "a trained policy, export it with `alpyperl export` and "
                    + "give the file to the connector: new RLConnector(this).usePolicy(\"policy.onnx\"), or run "
                    + "the model with -Dalpyperl.policy=policy.onnx or the environment variable ALPYPERL_POLICY.");
        }
        answering.decide(this);
    }

    /** The random number generator of this episode, seeded from the episode's seed. */
    public Random getRandom() {
        return random;
    }

    /**
     * The seed of this episode: the one alpyperl chose (reported to Python as {@code
     * info["seed"]}, so that {@code reset(seed=...)} replays the episode), or a random one in
     * evaluation mode.
     */
    public long getEpisodeSeed() {
        return episodeSeed;
    }

    /**
     * Whether alpyperl chooses the actions (training from Python, or alpyperl's launcher runs the
     * model); false in evaluation mode, where the connector answers from a policy file.
     */
    public boolean isDrivenByAlpyperl() {
        return host != null && !(host instanceof PolicyAnswers);
    }

    /**
     * The observation space in use, wherever it was defined (model, Python or the policy file);
     * {@code null} while the model is first created to read its spaces. A model whose spaces are
     * defined in Python can use it to lay out its observation (the parts of a Dict come in the
     * space's key order).
     */
    public Space getObservationSpace() {
        ConnectorHost answering = hostForSpaces();
        return answering != null ? answering.observationSpace() : model.getObservationSpace();
    }

    /** The action space in use, wherever it was defined; see {@link #getObservationSpace()}. */
    public Space getActionSpace() {
        ConnectorHost answering = hostForSpaces();
        return answering != null ? answering.actionSpace() : model.getActionSpace();
    }

    /** The spaces of a multi-agent model's agent types agreed with Python, or null (see {@link ConnectorHost#agentTypeSpaces()}). */
    Object agreedAgentTypeSpaces() {
        ConnectorHost answering = hostForSpaces();
        return answering != null ? answering.agentTypeSpaces() : null;
    }

    /** The model this connector serves. */
    public RLModel getModel() {
        return model;
    }

    /**
     * A new generator equal to {@link #getRandom()} of an episode with this seed, for tools and
     * tests that replay a model's draws. Its seed is mixed from the episode seed: java.util.Random's
     * first numbers for nearby seeds (0, 1, 2, ...) are nearly equal. (The launcher seeds the
     * AnyLogic engine's generator from another mix of the episode seed, so the two never replay
     * each other.)
     */
    public static Random randomOfEpisode(long episodeSeed) {
        return new Random(new SplittableRandom(episodeSeed).split().nextLong());
    }

    /** Whether the connector will attach to Python at its first decision (attach mode asked for, no host yet). */
    boolean attachRequested() {
        return host == null && AttachedHost.requested(attach);
    }

    /** The host that knows the spaces in use; asking never attaches to Python (only a decision does). */
    private ConnectorHost hostForSpaces() {
        return host == null && AttachedHost.requested(attach) ? null : evaluationHostIfNeeded();
    }

    private ConnectorHost evaluationHostIfNeeded() {
        if (host == null) {
            host = AttachedHost.requested(attach) ? AttachedHost.connect(this)
                    : PolicyAnswers.forConnector(this, policyFile, sampling);
        }
        return host;
    }
}
