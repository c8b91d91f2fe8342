package com.alpype;

import com.alpyperl.connector.RLConnector;
import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;
import java.io.File;
import java.util.Random;

/**
 * ALPypeRL 1.x's connector, the agent a 1.x model embeds in its root agent, answered by alpyperl.
 *
 * <p>Its parameters keep their 1.x meaning: {@link #connect} (false: {@link #requestAction()}
 * does nothing), {@link #rlMode}, {@link #setSpaces} with {@link #observationSpace} and {@link
 * #actionSpace} (false: the spaces are defined in Python), {@link #seed} for {@link #getRNG()}.
 * {@link #serverUrl} is not used: there is no policy server any more.
 *
 * <p>Who chooses the actions:
 * <ul>
 *   <li>under alpyperl (training from Python, or alpyperl's launcher): alpyperl, whatever the
 *       RL mode;</li>
 *   <li>anywhere else, in EVALUATE mode: the ONNX policy named by {@code -Dalpyperl.policy} or
 *       {@code ALPYPERL_POLICY}, else the file {@value #POLICY_FILE} in the working folder (where
 *       {@code alpyperl upgrade-1x --policy} puts it), with the policy's most likely action;</li>
 *   <li>anywhere else, in TRAIN mode (the AnyLogic IDE's Run button, or an export started by its
 *       own launch script): the Python {@code AnyLogicEnv(attach=True)} that waits for the model,
 *       as 1.x's Python drove a model running in AnyLogic (see docs/anylogic.md, "Training without
 *       exporting").</li>
 * </ul>
 */
public class ALPypeRLConnector extends Agent {
    /** The policy file looked for in the working folder in EVALUATE mode. */
    public static final String POLICY_FILE = "policy.onnx";

    public boolean connect = true;
    public RLMode rlMode;
    public String serverUrl = "http://localhost:3000";
    public boolean setSpaces = true;
    public ObservationSpace observationSpace;
    public ActionSpace actionSpace;
    public RandomnessMode randomnessMode = RandomnessMode.UNIQUE_RUNS;
    public long seed;

    private final RLConnector connector;
    private final Agent owner;
    private Random rng;
    private RLAction action;
    private boolean evaluationChecked;

    /** Created by the generated code of the agent that embeds it (the root agent). */
    public ALPypeRLConnector(Engine engine, Agent owner, AgentList<? extends ALPypeRLConnector> collection) {
        super(engine, owner, collection);
        this.owner = owner;
        this.connector = new RLConnector(new ClientControllerModel(this));
        this.seed = connector.getEpisodeSeed();
    }

    // ---- the parameters' defaults and setters, as AnyLogic generates them --------------------

    public boolean _connect_DefaultValue_xjal() {
        return true;
    }

    public RLMode _rlMode_DefaultValue_xjal() {
        return null;
    }

    public String _serverUrl_DefaultValue_xjal() {
        return "http://localhost:3000";
    }

    public boolean _setSpaces_DefaultValue_xjal() {
        return true;
    }

    public ObservationSpace _observationSpace_DefaultValue_xjal() {
        return null;
    }

    public ActionSpace _actionSpace_DefaultValue_xjal() {
        return null;
    }

    public RandomnessMode _randomnessMode_DefaultValue_xjal() {
        return RandomnessMode.UNIQUE_RUNS;
    }

    /** The episode's seed (in 1.x: the current time), so that a seed replays an episode. */
    public long _seed_DefaultValue_xjal() {
        return connector.getEpisodeSeed();
    }

    public void set_connect(boolean value) {
        connect = value;
    }

    public void set_rlMode(RLMode value) {
        rlMode = value;
    }

    public void set_serverUrl(String value) {
        serverUrl = value;
    }

    public void set_setSpaces(boolean value) {
        setSpaces = value;
    }

    public void set_observationSpace(ObservationSpace value) {
        observationSpace = value;
    }

    public void set_actionSpace(ActionSpace value) {
        actionSpace = value;
    }

    public void set_randomnessMode(RandomnessMode value) {
        randomnessMode = value;
    }

    public void set_seed(long value) {
        seed = value;
        rng = null;
    }

    // ---- what models call -------------------------------------------------------------------

    /**
     * A decision point: reports the observation and reward, and applies the chosen action
     * ({@code takeAction}) before returning. Does nothing when {@link #connect} is false.
     */
    public void requestAction() {
        if (!connect) {
            return;
        }
        if (!connector.isDrivenByAlpyperl() && !evaluationChecked) {
            prepareEvaluation();
            evaluationChecked = true;
        }
        connector.requestAction();
    }

    /** The last action applied, or null before the first. */
    public RLAction getAction() {
        return action;
    }

    /**
     * The model's random number generator: with the default {@link #seed} (the episode's seed) the
     * connector's generator of the episode; with a seed the model sets, {@code new Random(seed)} as in 1.x.
     */
    public Random getRNG() {
        if (rng == null) {
            rng = seed == connector.getEpisodeSeed() ? connector.getRandom() : new Random(seed);
        }
        return rng;
    }

    /** The seed of {@link #getRNG()}. */
    public long getSeed() {
        return seed;
    }

    /** In 1.x, a custom experiment's run() passed its command line here for Py4J; nothing to do now. */
    public void isCustomExperiment(String[] commandLineArguments) {
    }

    // ---- for ClientControllerModel --------------------------------------------------------------

    /** The agent that implements the 1.x contract: the one that embeds this connector, or one of its owners. */
    ALPypeRLClientController controller() {
        for (Agent agent = owner; agent != null; agent = agent.getOwner()) {
            if (agent instanceof ALPypeRLClientController) {
                return (ALPypeRLClientController) agent;
            }
        }
        throw new IllegalStateException("the agent " + (owner == null ? "that embeds the ALPypeRLConnector"
                : owner.getClass().getSimpleName()) + " does not implement com.alpype.ALPypeRLClientController: in "
                + "AnyLogic, add ALPypeRLClientController to the Implements field (Advanced Java) of the root agent "
                + "that contains the ALPypeRLConnector, and implement its functions");
    }

    void applied(RLAction action) {
        this.action = action;
    }

    RLConnector connector() {
        return connector;
    }

    /** The engine of the agent, for the connector's attach mode. */
    Engine engineOfAgent() {
        return getEngine();
    }

    /** Outside alpyperl: in EVALUATE mode, finds the policy file; in TRAIN mode, attaches to Python. */
    private void prepareEvaluation() {
        if (rlMode == RLMode.TRAIN) {
            connector.attachToPython();
            return;
        }
        if (rlMode != RLMode.EVALUATE) {
            throw new IllegalStateException("This ALPypeRL 1.x model runs in " + rlMode + " mode outside alpyperl, "
                    + "so nobody answers requestAction(). To train it, export it as a standalone Java application "
                    + "and open the export from Python: alpyperl.AnyLogicEnv(model=\"path/to/export\"). To run a "
                    + "trained policy, set the root agent's rlMode to EVALUATE and give the policy exported by "
                    + "`alpyperl export` as " + POLICY_FILE + " in the model's folder (`alpyperl upgrade-1x EXPORT "
                    + "--policy FILE` puts it there), -Dalpyperl.policy=FILE or ALPYPERL_POLICY=FILE.");
        }
        if (System.getProperty("alpyperl.policy") != null || System.getenv("ALPYPERL_POLICY") != null) {
            return; // the connector reads them itself
        }
        if (!new File(POLICY_FILE).isFile()) {
            throw new IllegalStateException("This ALPypeRL 1.x model runs in EVALUATE mode, but has no policy: there "
                    + "is no " + POLICY_FILE + " in its folder " + new File("").getAbsolutePath() + ", and neither "
                    + "-Dalpyperl.policy nor ALPYPERL_POLICY is set. Export the trained policy with `alpyperl export "
                    + "--checkpoint DIR --out policy.onnx` and put it there (`alpyperl upgrade-1x EXPORT --policy "
                    + "policy.onnx` does). alpyperl 2 needs no policy server (serverUrl is not used).");
        }
        connector.usePolicy(POLICY_FILE);
    }
}
