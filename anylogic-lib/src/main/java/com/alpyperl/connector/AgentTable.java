package com.alpyperl.connector;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The agents of one crossing of a multi-agent model, laid out as one flat observation and one
 * flat action, so that all waiting agents cross to Python and back in one hand-off of the
 * single-agent kind. Model code never uses this class; {@link MultiAgentConnector} fills it, and
 * alpyperl's launcher checks the actions in it before the model runs.
 *
 * <p>The layout, for agent types whose largest observation, action and mask take {@code O},
 * {@code A} and {@code M} values, and room for {@code C} agents per crossing:
 * <ul>
 *   <li>observation: {@code [count | C slots of (type, number, status, reward, observation (O), mask (M))]};
 *       {@code type} indexes {@link MultiAgentModel#getAgentTypes()}, {@code status} is {@link
 *       #DECIDES}, {@link #TERMINATED} or {@link #TRUNCATED}; the first {@code count} slots are used;</li>
 *   <li>action: {@code C slots of A values}, slot k holding the action of the agent in observation slot k.</li>
 * </ul>
 * Python lays the same table out from {@link #describe(MultiAgentModel)} ({@code alpyperl/multi_agent.py}).
 */
public final class AgentTable implements RLModel {
    /** Status of a slot: the agent waits for its action. */
    public static final int DECIDES = 0;
    /** Status of a slot: the agent has left the episode (or the episode ended for good); its last observation. */
    public static final int TERMINATED = 1;
    /** Status of a slot: the episode stopped while the agent was in it; its last observation. */
    public static final int TRUNCATED = 2;
    /** Values before the first slot: the number of slots used. */
    static final int HEADER = 1;
    /** Values of a slot before its observation: type, number, status, reward. */
    static final int SLOT_HEAD = 4;

    private final MultiAgentModel model;
    private final MultiAgentConnector owner;
    final List<String> types;
    /** Per type: the spaces the model returned (null where it leaves a space to Python). */
    final Space[] modelObservationSpaces;
    final Space[] modelActionSpaces;
    /** Per type: whether its agents send an action mask. */
    private final boolean[] masked;
    /** Per type: how many agents of it may take part (their numbers are below), 0 if open. */
    final int[] possibleAgents;
    /** Per type, once the spaces are settled ({@link #settleSpaces}): the spaces in use, and the length of its mask (0 without). */
    Space[] observationSpaces;
    Space[] actionSpaces;
    int[] maskSizes;
    int observationWidth;
    int actionWidth;
    int maskWidth;
    int slotWidth;

    // ---- the crossing in flight (written on the model thread before it hands back) -----------
    private int capacity = -1;
    private double[] table;
    private final List<MultiAgentConnector.Entry> slots = new ArrayList<>();
    private int[] slotStatus = new int[0];
    private boolean[][] slotMasks = new boolean[0][];
    /** How many crossings have been filled (for the connector to tell whether its host took one). */
    private long crossings;

    AgentTable(MultiAgentModel model, MultiAgentConnector owner) {
        this.model = model;
        this.owner = owner;
        List<String> declared = model.getAgentTypes();
        if (declared == null || declared.isEmpty()) {
            throw new ModelException("getAgentTypes() of the model returned " + (declared == null ? "null" : "no types")
                    + "; a multi-agent model names at least one agent type");
        }
        this.types = new ArrayList<>(declared);
        int n = types.size();
        modelObservationSpaces = new Space[n];
        modelActionSpaces = new Space[n];
        masked = new boolean[n];
        possibleAgents = new int[n];
        Set<String> seen = new HashSet<>();
        for (int t = 0; t < n; t++) {
            String type = types.get(t);
            if (type == null || type.isEmpty() || !seen.add(type)) {
                throw new ModelException("getAgentTypes() of the model returned " + types
                        + "; agent types must be non-empty names, no two alike");
            }
            modelObservationSpaces[t] = model.getObservationSpace(type);
            modelActionSpaces[t] = model.getActionSpace(type);
            possibleAgents[t] = model.getPossibleAgents(type);
            if (possibleAgents[t] < 0) {
                throw new ModelException("getPossibleAgents(\"" + type + "\") of the model returned " + possibleAgents[t]
                        + "; it is a number of agents (0 for open)");
            }
            masked[t] = model.usesActionMask(type);
            if (masked[t] && modelActionSpaces[t] != null) {
                ActionMask.size(modelActionSpaces[t], "agent type '" + type + "' uses an action mask");
            }
        }
    }

    /**
     * Settles the spaces of the agent types and the table's layout: for each type the space Python
     * agreed ({@code agreed}, the parsed {@code "agent_types"} list, or null: the model's own), which
     * must have the layout of the model's where the model returns one too. Done once.
     */
    void settleSpaces(Object agreed) {
        if (observationSpaces != null) {
            return;
        }
        int n = types.size();
        List<?> agreedTypes = agreed instanceof List ? (List<?>) agreed : null;
        if (agreed != null && (agreedTypes == null || agreedTypes.size() != n)) {
            throw new ModelException("the agent type spaces agreed with Python (" + agreed + ") are not one entry per "
                    + "agent type " + types + "; let the agent types not depend on parameters");
        }
        Space[] observations = new Space[n];
        Space[] actions = new Space[n];
        int[] masks = new int[n];
        int o = 0;
        int a = 0;
        int m = 0;
        for (int t = 0; t < n; t++) {
            Object entry = agreedTypes == null ? null : agreedTypes.get(t);
            observations[t] = agreedSpace(t, "observation", modelObservationSpaces[t], entry);
            actions[t] = agreedSpace(t, "action", modelActionSpaces[t], entry);
            if (masked[t]) {
                masks[t] = ActionMask.size(actions[t], "agent type '" + types.get(t) + "' uses an action mask");
            }
            o = Math.max(o, observations[t].flatSize());
            a = Math.max(a, actions[t].flatSize());
            m = Math.max(m, masks[t]);
        }
        observationWidth = o;
        actionWidth = a;
        maskWidth = m;
        slotWidth = SLOT_HEAD + o + m;
        actionSpaces = actions;
        maskSizes = masks;
        observationSpaces = observations;
    }

    /** The {@code kind} space of type {@code t}: Python's from {@code entry} if it has one, else the model's. */
    private Space agreedSpace(int t, String kind, Space fromModel, Object entry) {
        String type = types.get(t);
        Object json = entry instanceof java.util.Map ? ((java.util.Map<?, ?>) entry).get(kind + "_space") : null;
        Space fromPython = json == null ? null : Space.fromJsonValue(json, "the " + kind + " space of agent type '" + type + "'");
        String getter = "get" + Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + "Space(\"" + type + "\")";
        if (fromPython == null && fromModel == null) {
            throw new ModelException("the " + kind + " space of agent type '" + type + "' is defined neither in the model "
                    + "(its " + getter + " returns null) nor in Python (pass " + kind + "_spaces={'" + type
                    + "': ...} to AnyLogicMultiAgentEnv)");
        }
        if (fromPython != null && fromModel != null && !fromModel.hasSameLayout(fromPython)) {
            throw new ModelException("the " + kind + " space of agent type '" + type + "' is " + fromModel + " in the model ("
                    + getter + ") but " + fromPython + " in Python; define it in one place only");
        }
        return fromPython != null ? fromPython : fromModel;
    }

    /**
     * What a multi-agent model says about its agent types, as JSON: {@code {"types": [{"name",
     * "observation_space", "action_space", "action_mask", "possible_agents"}, ...]}}, for Python to lay
     * out the table; a space the model leaves to Python is {@code null}.
     */
    public static String describe(MultiAgentModel model) {
        AgentTable table = new AgentTable(model, null);
        StringBuilder json = new StringBuilder("{\"types\":[");
        for (int t = 0; t < table.types.size(); t++) {
            json.append(t == 0 ? "{" : ",{").append("\"name\":");
            Json.appendString(json, table.types.get(t));
            Space observation = table.modelObservationSpaces[t];
            Space action = table.modelActionSpaces[t];
            json.append(",\"observation_space\":").append(observation == null ? "null" : observation.toJson());
            json.append(",\"action_space\":").append(action == null ? "null" : action.toJson());
            json.append(",\"action_mask\":").append(table.masked[t]);
            json.append(",\"possible_agents\":").append(table.possibleAgents[t]).append('}');
        }
        return json.append("]}").toString();
    }

    /** The multi-agent model this table serves. */
    public MultiAgentModel getModel() {
        return model;
    }

    /** How many crossings the table has been filled for. */
    long crossings() {
        return crossings;
    }

    /**
     * The id of the agent whose method ({@code takeAction}, {@code getObservation}, {@code getReward},
     * {@code getActionMask}) the connector is calling now, or null: called by alpyperl's launcher on
     * the model's thread, to label what the model prints with the agent.
     */
    public String agentInCall() {
        return owner == null ? null : owner.agentInCall();
    }

    /** The index of {@code type} among the agent types, or -1. */
    int typeIndex(String type) {
        return types.indexOf(type);
    }

    /** How many agents one crossing holds, from the spaces agreed with Python (read at the first crossing). */
    int capacity() {
        if (capacity < 0) {
            settleSpaces(owner.agreedAgentTypeSpaces());
            Space observation = owner.agreedObservationSpace();
            Space action = owner.agreedActionSpace();
            int c = action == null ? 0 : action.flatSize() / actionWidth;
            if (observation == null || c < 1 || action.flatSize() != c * actionWidth
                    || observation.flatSize() != HEADER + c * slotWidth) {
                throw new ModelException("the spaces agreed with Python (observation " + observation + ", action "
                        + action + ") are not a table of this model's agent types " + types + ". Open a multi-agent "
                        + "model with alpyperl.AnyLogicMultiAgentEnv, not AnyLogicEnv; and let its agent types, their "
                        + "spaces and usesActionMask() not depend on parameters (Python lays the table out from an "
                        + "instance with the default parameters)");
            }
            capacity = c;
            table = new double[HEADER + c * slotWidth];
            slotStatus = new int[c];
            slotMasks = new boolean[c][];
        }
        return capacity;
    }

    // ---- RLModel: the crossing as one observation and one action ---------------------------------

    /** Fills the table with the agents of this crossing (see {@link MultiAgentConnector#slotsOfCrossing}). */
    @Override
    public double[] getObservation() {
        int c = capacity();
        crossings++;
        slots.clear();
        owner.slotsOfCrossing(slots, slotStatus, c);
        table[0] = slots.size();
        for (int k = 0; k < slots.size(); k++) {
            MultiAgentConnector.Entry agent = slots.get(k);
            int at = HEADER + k * slotWidth;
            table[at] = agent.type;
            table[at + 1] = agent.number;
            table[at + 2] = slotStatus[k];
            table[at + 3] = agent.reward();
            double[] observation = agent.observe(observationSpaces[agent.type]);
            System.arraycopy(observation, 0, table, at + SLOT_HEAD, observation.length);
            slotMasks[k] = null;
            int maskSize = maskSizes[agent.type];
            if (maskSize > 0) {
                boolean[] mask = slotStatus[k] == DECIDES ? agent.mask(actionSpaces[agent.type]) : null;
                slotMasks[k] = mask;
                int m = at + SLOT_HEAD + observationWidth;
                for (int i = 0; i < maskSize; i++) {
                    table[m + i] = mask == null || mask[i] ? 1 : 0;
                }
            }
        }
        return table;
    }

    /** Hands each deciding agent of this crossing its action. */
    @Override
    public void takeAction(RLAction all) {
        double[] values = all.toFlatArray();
        for (int k = 0; k < slots.size(); k++) {
            if (slotStatus[k] == DECIDES) {
                MultiAgentConnector.Entry agent = slots.get(k);
                agent.act(new RLAction(actionSpaces[agent.type], values, k * actionWidth));
            }
        }
        slots.clear();
    }

    /** The rewards are the agents' (in their slots); the table itself earns none. */
    @Override
    public double getReward() {
        return 0;
    }

    @Override
    public boolean hasFinished() {
        return owner.finished();
    }

    @Override
    public boolean isTruncated() {
        return owner.truncated();
    }

    // ---- checking the actions Python wrote, before the model runs ------------------------------

    /**
     * Why the actions in {@code actions} (from {@code offset} on) are not what the agents of the
     * crossing in flight may do, naming the first agent whose action is not in its space or is
     * forbidden by its mask; null if every deciding agent's action is valid. Called by alpyperl's
     * launcher while the model waits at the crossing.
     */
    public String actionProblem(DoubleBuffer actions, int offset) {
        for (int k = 0; k < slots.size(); k++) {
            if (slotStatus[k] != DECIDES) {
                continue;
            }
            MultiAgentConnector.Entry agent = slots.get(k);
            Space space = actionSpaces[agent.type];
            int at = offset + k * actionWidth;
            String problem = space.problemWith(actions, at);
            if (problem != null) {
                return "the action of agent " + agent.id + " is not in its action space " + space + ": " + problem;
            }
            if (slotMasks[k] != null) {
                problem = maskProblem(space, slotMasks[k], actions, at);
                if (problem != null) {
                    return "the action of agent " + agent.id + " is masked: " + problem;
                }
            }
        }
        return null;
    }

    /** Why the action at {@code at} picks a choice that {@code mask} forbids, or null. */
    static String maskProblem(Space space, boolean[] mask, DoubleBuffer actions, int at) {
        if (space instanceof Space.Discrete) {
            Space.Discrete discrete = (Space.Discrete) space;
            int choice = (int) (actions.get(at) - discrete.getStart());
            return mask[choice] ? null : (long) actions.get(at) + " is not valid now; the valid actions are "
                    + validChoices(mask, 0, mask.length, discrete.getStart());
        }
        Space.MultiDiscrete multi = (Space.MultiDiscrete) space;
        long[] nvec = multi.getNvec();
        long[] start = multi.getStart();
        int from = 0;
        for (int i = 0; i < nvec.length; i++) {
            int choice = (int) (actions.get(at + i) - start[i]);
            if (!mask[from + choice]) {
                return "entry " + i + " is " + (long) actions.get(at + i) + ", which is not valid now; its valid choices are "
                        + validChoices(mask, from, (int) nvec[i], start[i]);
            }
            from += (int) nvec[i];
        }
        return null;
    }

    private static String validChoices(boolean[] mask, int from, int n, long start) {
        StringBuilder valid = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (mask[from + i]) {
                valid.append(valid.length() == 0 ? "" : ", ").append(start + i);
            }
        }
        return valid.length() == 0 ? "none" : valid.toString();
    }
}
