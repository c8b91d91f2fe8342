package com.alpyperl.connector;

import com.alpyperl.policy.OnnxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Evaluation mode: the connector answers {@code requestAction()} itself with an exported ONNX
 * policy, without Python, choosing only actions that the model's mask allows ({@link MaskedModel}).
 * Policies are loaded once per file (and again when the file changes) and shared by every model
 * instance in the JVM; each mode is announced once on {@code System.out}.
 */
final class PolicyAnswers extends ConnectorHost {
    /** The system property that names a policy file for models that do not call usePolicy(). */
    static final String POLICY_PROPERTY = "alpyperl.policy";
    /** The environment variable read when the system property is not set. */
    static final String POLICY_VARIABLE = "ALPYPERL_POLICY";

    private static final Map<Path, Loaded> POLICIES = new ConcurrentHashMap<>();
    private static final Set<String> ANNOUNCED = ConcurrentHashMap.newKeySet();

    private final OnnxPolicy policy;
    private final boolean sampling;

    private PolicyAnswers(OnnxPolicy policy, boolean sampling) {
        this.policy = policy;
        this.sampling = sampling;
    }

    /**
     * The evaluation host for a connector: the policy file given to usePolicy(), else the one named
     * by the system property or environment variable; {@code null} if none is given anywhere.
     */
    static PolicyAnswers forConnector(RLConnector connector, String policyFile, boolean sampling) {
        String[] chosen = chosenPolicyFile(policyFile, "usePolicy()");
        if (chosen == null) {
            return null;
        }
        String origin = chosen[1];
        Path path = Paths.get(chosen[0]).toAbsolutePath().normalize();
        OnnxPolicy policy = load(path, origin);
        checkSpaces(policy, connector.getModel(), path);
        announce("evaluation mode: actions from the policy " + path + " (" + origin + ", "
                + (sampling ? "sampled from its distribution" : "the most likely action") + ")");
        return new PolicyAnswers(policy, sampling);
    }

    /**
     * The policy file to use and where it was named: {@code given} (named by {@code givenOrigin}),
     * else the system property, else the environment variable; {@code null} if none names one.
     */
    private static String[] chosenPolicyFile(String given, String givenOrigin) {
        if (given != null) {
            return new String[] {given, givenOrigin};
        }
        String property = System.getProperty(POLICY_PROPERTY);
        if (property != null) {
            return new String[] {property, "-D" + POLICY_PROPERTY};
        }
        String variable = System.getenv(POLICY_VARIABLE);
        return variable == null ? null : new String[] {variable, "the environment variable " + POLICY_VARIABLE};
    }

    /**
     * The policy that answers the agents of {@code agentType} in evaluation mode: {@code policyFile}
     * (from usePolicy()), else the file named by the system property or environment variable.
     * Refused, naming the type, if there is none or it was trained for other spaces.
     */
    static TypePolicy forAgentType(String agentType, String policyFile, Space observationSpace, Space actionSpace,
            boolean sampling) {
        String[] chosen = chosenPolicyFile(policyFile, "usePolicy(\"" + agentType + "\", ...)");
        if (chosen == null) {
            throw new IllegalStateException("Nobody answers the agents of type '" + agentType + "': this model runs neither "
                    + "under alpyperl training nor with a policy for them. To train it, open the exported model from Python "
                    + "(alpyperl.AnyLogicMultiAgentEnv). To evaluate, export the policy of the type's module with `alpyperl export "
                    + "--module-id " + agentType + "` and give it to the connector: connector.usePolicy(\"" + agentType
                    + "\", \"policy.onnx\").");
        }
        String origin = chosen[1];
        Path path = Paths.get(chosen[0]).toAbsolutePath().normalize();
        OnnxPolicy policy = load(path, origin);
        String where = "agent type '" + agentType + "'";
        check("observation", policy.getObservationSpace(), observationSpace, path, where);
        check("action", policy.getActionSpace(), actionSpace, path, where);
        announce("evaluation mode: agents of type '" + agentType + "' act by the policy " + path + " (" + origin + ", "
                + (sampling ? "sampled from its distribution" : "the most likely action") + ")");
        return new TypePolicy(policy, sampling);
    }

    /** The policy of one agent type in evaluation mode. */
    static final class TypePolicy {
        private final OnnxPolicy policy;
        private final boolean sampling;

        TypePolicy(OnnxPolicy policy, boolean sampling) {
            this.policy = policy;
            this.sampling = sampling;
        }

        /** The observation space the policy was trained for. */
        Space observationSpace() {
            return policy.getObservationSpace();
        }

        /** The action space the policy was trained for. */
        Space actionSpace() {
            return policy.getActionSpace();
        }

        /** The action for agent {@code id}'s observation, a choice {@code mask} allows (null: all). */
        RLAction choose(String id, double[] observation, boolean[] mask, Random random) {
            double[] action;
            try {
                action = sampling ? policy.sample(observation, mask, random) : policy.act(observation, mask);
            } catch (IllegalArgumentException e) {
                throw new ModelException("the policy cannot answer agent " + id + ": " + e.getMessage(), e);
            }
            return new RLAction(policy.getActionSpace(), action, 0);
        }
    }

    /** Prints an announcement once per JVM. */
    static void announce(String message) {
        if (ANNOUNCED.add(message)) {
            System.out.println("ALPypeRL: " + message);
        }
    }

    @Override
    protected void attach(RLConnector connector) {
        // not bound to a thread: the connector holds this host itself
    }

    @Override
    protected void decide(RLConnector connector) {
        double[] observation = observe(connector, policy.getObservationSpace());
        RLModel model = connector.getModel();
        boolean[] mask = model instanceof MaskedModel
                ? ActionMask.of((MaskedModel) model, policy.getActionSpace()) : null;
        double[] action;
        try {
            action = sampling ? policy.sample(observation, mask, connector.getRandom()) : policy.act(observation, mask);
        } catch (IllegalArgumentException e) {
            throw new ModelException("the policy cannot use the model's observation: " + e.getMessage(), e);
        }
        apply(connector, new RLAction(policy.getActionSpace(), action, 0));
    }

    @Override
    protected long episodeSeed() {
        throw new UnsupportedOperationException("an evaluation host has no episode seed");
    }

    @Override
    protected Space observationSpace() {
        return policy.getObservationSpace();
    }

    @Override
    protected Space actionSpace() {
        return policy.getActionSpace();
    }

    private static OnnxPolicy load(Path path, String origin) {
        try {
            long modified = Files.getLastModifiedTime(path).toMillis();
            Loaded loaded = POLICIES.get(path);
            if (loaded == null || loaded.modified != modified) {
                loaded = new Loaded(OnnxPolicy.load(path), modified);
                POLICIES.put(path, loaded);
            }
            return loaded.policy;
        } catch (IOException e) {
            String reason = Files.exists(path) ? e.getMessage() : "the file does not exist";
            throw new IllegalStateException("ALPypeRL cannot load the policy file " + path + " (given by " + origin
                    + "): " + reason, e);
        }
    }

    /** A policy trained for other spaces than the model's is refused (bounds may differ by rounding). */
    private static void checkSpaces(OnnxPolicy policy, RLModel model, Path path) {
        check("observation", policy.getObservationSpace(), model.getObservationSpace(), path);
        check("action", policy.getActionSpace(), model.getActionSpace(), path);
    }

    private static void check(String kind, Space trained, Space declared, Path path) {
        check(kind, trained, declared, path, "the model");
    }

    private static void check(String kind, Space trained, Space declared, Path path, String who) {
        if (declared != null && !trained.hasSameLayout(declared)) {
            throw new IllegalStateException("the policy " + path + " was trained for the " + kind + " space " + trained
                    + ", but " + who + " declares " + declared + "; export a policy trained on this model");
        }
    }

    private static final class Loaded {
        final OnnxPolicy policy;
        final long modified;

        Loaded(OnnxPolicy policy, long modified) {
            this.policy = policy;
            this.modified = modified;
        }
    }
}
