package com.alpyperl.launcher.cli;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.ModelSession;
import com.alpyperl.policy.OnnxPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * {@code run} on a model with several deciding agents ({@code MultiAgentModel}): every crossing's
 * waiting agents are answered by the ONNX policy of their type, which never picks a choice the
 * agent's mask forbids. The agents' table is laid out as {@code alpyperl.AnyLogicMultiAgentEnv}
 * lays it out (see {@code com.alpyperl.connector.AgentTable}); an episode's return is the sum of
 * every agent's rewards after the reset, also printed per agent type. An agent type whose spaces the
 * model leaves to Python takes those of its policy, as evaluation mode does, and they reach the
 * model's table as Python's would ({@code "agent_types"} of the table's observation space).
 */
final class MultiAgentRun {
    /** Values before the first slot, and before a slot's observation (as in AgentTable). */
    private static final int HEADER = 1;
    private static final int SLOT_HEAD = 4;
    /** A slot's status: the agent waits for its action. */
    private static final int DECIDES = 0;

    private final PrintStream out;
    private final Main.Options options;
    private final List<AgentType> types = new ArrayList<>();
    private final int observationWidth;
    private final int actionWidth;
    private final int slotWidth;
    /** The policies loaded so far, by file (one file may serve several types). */
    private final Map<String, OnnxPolicy> loaded = new HashMap<>();

    /**
     * One agent type as the model describes it, with its policy (loaded when one of its agents first
     * decides, or at the start for a type whose spaces come from its policy).
     */
    private static final class AgentType {
        final String name;
        final Space observationSpace;
        final Space actionSpace;
        final int maskSize;
        OnnxPolicy policy;

        AgentType(String name, Space observationSpace, Space actionSpace, int maskSize) {
            this.name = name;
            this.observationSpace = observationSpace;
            this.actionSpace = actionSpace;
            this.maskSize = maskSize;
        }
    }

    private MultiAgentRun(PrintStream out, Main.Options options, Map<String, Object> agents) throws IOException {
        this.out = out;
        this.options = options;
        List<String> names = new ArrayList<>();
        for (Object described : (List<?>) agents.get("types")) {
            names.add(String.valueOf(((Map<?, ?>) described).get("name")));
        }
        for (String typed : options.typePolicies.keySet()) {
            if (!names.contains(typed)) {
                throw new IllegalArgumentException("--policy " + typed + "=...: the model has no agent type '" + typed
                        + "'; its agent types are " + names);
            }
        }
        int o = 0;
        int a = 0;
        int m = 0;
        for (Object described : (List<?>) agents.get("types")) {
            AgentType type = agentType((Map<?, ?>) described);
            types.add(type);
            o = Math.max(o, type.observationSpace.flatSize());
            a = Math.max(a, type.actionSpace.flatSize());
            m = Math.max(m, type.maskSize);
        }
        observationWidth = o;
        actionWidth = a;
        slotWidth = SLOT_HEAD + o + m;
    }

    /**
     * The agent type the model described: with its own spaces, or, where it leaves a space to Python
     * (null), that of its policy, which is then loaded now (its other space must fit the model's).
     */
    private AgentType agentType(Map<?, ?> described) throws IOException {
        String name = String.valueOf(described.get("name"));
        Object observationJson = described.get("observation_space");
        Object actionJson = described.get("action_space");
        Space observation = observationJson == null ? null
                : Space.fromJsonValue(observationJson, "observation space of " + name);
        Space action = actionJson == null ? null : Space.fromJsonValue(actionJson, "action space of " + name);
        OnnxPolicy policy = null;
        if (observation == null || action == null) {
            String file = options.typePolicies.getOrDefault(name, options.policy);
            if (file == null) {
                throw new IllegalArgumentException("agent type '" + name + "' leaves its spaces to Python (the model's "
                        + "getObservationSpace(\"" + name + "\") or getActionSpace(\"" + name + "\") returns null), so "
                        + "it takes them from its policy: give --policy " + name + "=FILE.onnx (exported with "
                        + "`alpyperl export --module-id " + name + "`), or one --policy FILE.onnx for every type");
            }
            policy = load(file);
            String where = " of agent type '" + name + "'";
            if (observation != null) {
                check("observation", policy.getObservationSpace(), observation, file, where);
            }
            if (action != null) {
                check("action", policy.getActionSpace(), action, file, where);
            }
            observation = observation != null ? observation : policy.getObservationSpace();
            action = action != null ? action : policy.getActionSpace();
        }
        int mask = Boolean.TRUE.equals(described.get("action_mask")) ? maskSize(name, action) : 0;
        AgentType type = new AgentType(name, observation, action, mask);
        type.policy = policy;
        return type;
    }

    private static int maskSize(String type, Space action) {
        if (action instanceof Space.Discrete) {
            return Math.toIntExact(((Space.Discrete) action).getN());
        }
        if (!(action instanceof Space.MultiDiscrete)) {
            throw new IllegalArgumentException("agent type '" + type + "' uses an action mask, but its action space "
                    + action + " is neither Discrete nor MultiDiscrete; give it the policy exported for that type");
        }
        long total = 0;
        for (long n : ((Space.MultiDiscrete) action).getNvec()) {
            total += n;
        }
        return Math.toIntExact(total);
    }

    /** Runs the episodes of {@code options} on the session of a multi-agent model; returns the exit status. */
    static int run(PrintStream out, Main.Options options, String modelName, ModelSession session,
            Map<String, Object> agents) throws IOException {
        return new MultiAgentRun(out, options, agents).run(modelName, session);
    }

    private int run(String modelName, ModelSession session) throws IOException {
        int capacity = options.maxAgents;
        int actionSize = capacity * actionWidth;
        int observationSize = HEADER + capacity * slotWidth;
        ByteBuffer bytes = ByteBuffer.allocateDirect(8 * (actionSize + observationSize + 1)).order(ByteOrder.nativeOrder());
        DoubleBuffer buffer = bytes.asDoubleBuffer();
        session.configure(tableObservationJson(observationSize), Spaces.unboundedBox(actionSize).toJson(),
                options.stepTimeout, bytes);
        session.setParameters(options.parametersJson());

        out.println("model " + modelName + " (" + Main.counted(types.size(), "agent type") + "), policies " + policyText()
                + " (" + (options.sample ? "sampled actions" : "most likely actions") + "), "
                + Main.counted(options.episodes, "episode"));
        double[] returns = new double[options.episodes];
        double[] typeTotals = new double[types.size()];
        long totalSteps = 0;
        long started = System.nanoTime();
        for (int episode = 0; episode < options.episodes; episode++) {
            long seed = options.seed + episode;
            Random random = new Random(seed);
            double[] typeReturns = new double[types.size()];
            int status = session.reset(seed);
            long steps = 0;
            answer(buffer, actionSize, status, null, random);
            while (status == ModelSession.RUNNING && steps < options.maxSteps) {
                status = session.step();
                steps++;
                answer(buffer, actionSize, status, typeReturns, random);
            }
            double episodeReturn = 0;
            StringBuilder perType = new StringBuilder();
            for (int t = 0; t < types.size(); t++) {
                episodeReturn += typeReturns[t];
                typeTotals[t] += typeReturns[t];
                perType.append(t == 0 ? "" : ", ").append(types.get(t).name)
                        .append(String.format(Locale.ROOT, " %.3f", typeReturns[t]));
            }
            returns[episode] = episodeReturn;
            totalSteps += steps;
            String end = status == ModelSession.TERMINATED ? "terminated"
                    : status == ModelSession.TRUNCATED ? "truncated" : "stopped at --max-steps";
            out.println(String.format(Locale.ROOT, "episode %3d  seed %-6d return %12.3f  steps %7d  %s  (%s)",
                    episode, seed, episodeReturn, steps, end, perType));
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        out.println(Main.summary(returns, totalSteps, seconds));
        StringBuilder means = new StringBuilder("mean return per agent type:");
        for (int t = 0; t < types.size(); t++) {
            means.append(t == 0 ? " " : ", ").append(types.get(t).name)
                    .append(String.format(Locale.ROOT, " %.3f", typeTotals[t] / options.episodes));
        }
        out.println(means);
        return 0;
    }

    /**
     * Reads the crossing now in the table: adds each agent's reward to its type's return ({@code
     * typeReturns}, null after a reset, whose rewards Python's environment does not report either)
     * and, while the episode runs, writes each waiting agent's action by its type's policy.
     */
    private void answer(DoubleBuffer buffer, int actionSize, int status, double[] typeReturns, Random random)
            throws IOException {
        int count = (int) buffer.get(actionSize);
        for (int k = 0; k < count; k++) {
            int at = actionSize + HEADER + k * slotWidth;
            AgentType type = types.get((int) buffer.get(at));
            if (typeReturns != null) {
                typeReturns[(int) buffer.get(at)] += buffer.get(at + 3);
            }
            if (status != ModelSession.RUNNING || (int) buffer.get(at + 2) != DECIDES) {
                continue;
            }
            double[] observation = new double[type.observationSpace.flatSize()];
            for (int i = 0; i < observation.length; i++) {
                observation[i] = buffer.get(at + SLOT_HEAD + i);
            }
            boolean[] mask = null;
            if (type.maskSize > 0) {
                mask = new boolean[type.maskSize];
                for (int i = 0; i < mask.length; i++) {
                    mask[i] = buffer.get(at + SLOT_HEAD + observationWidth + i) != 0;
                }
            }
            OnnxPolicy policy = policyOf(type, (long) buffer.get(at + 1));
            double[] action = options.sample ? policy.sample(observation, mask, random) : policy.act(observation, mask);
            for (int i = 0; i < action.length; i++) {
                buffer.put(k * actionWidth + i, action[i]);
            }
        }
    }

    /** The policy of {@code type}, loaded and checked against its spaces when its first agent decides. */
    private OnnxPolicy policyOf(AgentType type, long number) throws IOException {
        if (type.policy != null) {
            return type.policy;
        }
        String file = options.typePolicies.getOrDefault(type.name, options.policy);
        if (file == null) {
            throw new IllegalArgumentException("agent " + type.name + "_" + number + " decides, but no policy was given "
                    + "for its type '" + type.name + "': add --policy " + type.name + "=FILE.onnx (exported with "
                    + "`alpyperl export --module-id " + type.name + "`), or give one --policy FILE.onnx for every type");
        }
        OnnxPolicy policy = load(file);
        String where = " of agent type '" + type.name + "'";
        check("observation", policy.getObservationSpace(), type.observationSpace, file, where);
        check("action", policy.getActionSpace(), type.actionSpace, file, where);
        type.policy = policy;
        return policy;
    }

    /** The policy in {@code file}, loaded once however many types it serves. */
    private OnnxPolicy load(String file) throws IOException {
        OnnxPolicy policy = loaded.get(file);
        if (policy == null) {
            policy = OnnxPolicy.load(Paths.get(file));
            loaded.put(file, policy);
        }
        return policy;
    }

    /**
     * The table's observation space as JSON, with the spaces of every agent type in use (the
     * model's, or its policy's where the model leaves them to Python) as {@code "agent_types"}, as
     * {@code AnyLogicMultiAgentEnv} sends them (see {@code AgentTable.settleSpaces}).
     */
    private String tableObservationJson(int size) {
        String box = Spaces.unboundedBox(size).toJson();
        StringBuilder json = new StringBuilder(box.substring(0, box.lastIndexOf('}'))).append(",\"agent_types\":[");
        for (int t = 0; t < types.size(); t++) {
            json.append(t == 0 ? "" : ",").append("{\"observation_space\":").append(types.get(t).observationSpace.toJson())
                    .append(",\"action_space\":").append(types.get(t).actionSpace.toJson()).append('}');
        }
        return json.append("]}").toString();
    }

    private static void check(String kind, Space trained, Space declared, String file, String where) {
        if (!trained.hasSameLayout(declared)) {
            throw new IllegalStateException("the policy " + file + " was trained for the " + kind + " space " + trained
                    + ", but the " + kind + " space" + where + " is " + declared
                    + "; give the policy exported for that type (alpyperl export --module-id TYPE)");
        }
    }

    private String policyText() {
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, String> typed : options.typePolicies.entrySet()) {
            text.append(text.length() == 0 ? "" : ", ").append(typed.getKey()).append('=').append(typed.getValue());
        }
        if (options.policy != null) {
            text.append(text.length() == 0 ? "" : ", ").append(options.typePolicies.isEmpty() ? "" : "others=")
                    .append(options.policy);
        }
        return text.toString();
    }
}
