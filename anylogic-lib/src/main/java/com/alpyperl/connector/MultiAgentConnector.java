package com.alpyperl.connector;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Connects a model with several deciding agents to reinforcement learning. Create one in the
 * model's root, which implements {@link MultiAgentModel}; each deciding agent ({@link RLAgent})
 * joins with {@link #addAgent(String, RLAgent)}. An agent that needs a decision calls {@link
 * #requestAction(String)}, which returns at once; {@link #decide()} then answers every waiting
 * agent together and applies each one's action before it returns:
 * <pre>{@code
 * MultiAgentConnector connector = new MultiAgentConnector(this);
 * for (Machine m : machines) connector.addAgent("machine", m);      // ids machine_0, machine_1, ...
 * ...
 * for (Machine m : idleMachines) connector.requestAction(m.id);    // queued
 * connector.decide();       // one crossing for all of them; their actions have been applied now
 * }</pre>
 *
 * <p>Semantics: a request waits until the next {@link #decide()}, which the model calls once the
 * requests of the current instant are in (a plain Java model after its agents' turn; an AnyLogic
 * model at the end of the event that asked, or in an event of the root that runs after the agents'
 * events of that time). All requests waiting then cross to Python in one call, and all actions come
 * back in one call, in the order the agents asked. {@link #requestActionNow(String)} is a request
 * and a decide in one, for agents that decide alone. Code after {@code decide()} sees every action
 * applied; model time does not move inside it.
 *
 * <p>An agent's reward is read each time its decision (or its end) is reported, so it is what it
 * earned since its previous decision. {@link #removeAgent(String)} ends one agent's part early (it
 * is reported once more, terminated, with its last observation); agents may join at any time.
 * When the run ends, or the model says it {@link MultiAgentModel#hasFinished() has finished}, every
 * agent still in the episode is reported a last time.
 *
 * <p>Who decides is chosen as for {@link RLConnector}: alpyperl while it trains the model
 * (Python's {@code alpyperl.AnyLogicMultiAgentEnv}), else, in evaluation mode, the ONNX policy of each
 * agent's type ({@link #usePolicy(String, String)}), which never chooses a masked action.
 */
public final class MultiAgentConnector {
    private final MultiAgentModel model;
    private final AgentTable table;
    /** The single-agent connector through which a crossing goes: its model is the table. */
    private final RLConnector crossing;
    private final Map<String, Entry> agents = new LinkedHashMap<>();
    private final int[] nextNumber;
    /** Agents waiting for their action, in the order they asked. */
    private final List<Entry> waiting = new ArrayList<>();
    /** Agents that left after having decided: reported once more, terminated. */
    private final List<Entry> leaving = new ArrayList<>();
    private final Map<String, String> policyFiles = new HashMap<>();
    private Map<Integer, PolicyAnswers.TypePolicy> policies;
    private boolean sampling;
    /** Whether decide() is crossing now (else the table is read at the end of the run). */
    private boolean deciding;
    /** The id of the agent whose method (takeAction, getObservation, ...) the connector is calling, or null. */
    private String agentInCall;

    /** Connects {@code model}, whose agent types and their spaces it reads now. */
    public MultiAgentConnector(MultiAgentModel model) {
        this.model = Objects.requireNonNull(model, "the model must not be null");
        this.table = new AgentTable(model, this);
        this.nextNumber = new int[table.types.size()];
        this.crossing = new RLConnector(table);
    }

    /**
     * Adds an agent of {@code agentType} to the episode with the next free number of that type;
     * returns its id, {@code <type>_<number>} (e.g. {@code machine_3}), by which it requests actions
     * and by which Python (and RLlib's policy mapping) knows it.
     */
    public String addAgent(String agentType, RLAgent agent) {
        int type = typeOrFail(agentType);
        while (agents.containsKey(agentType + "_" + nextNumber[type])) {
            nextNumber[type]++;
        }
        return addAgent(agentType, nextNumber[type], agent);
    }

    /**
     * Adds an agent of {@code agentType} under the number {@code number} (for example the index of
     * an AnyLogic agent in its population); returns its id {@code <type>_<number>}. An id that is in
     * the episode already is refused.
     */
    public String addAgent(String agentType, int number, RLAgent agent) {
        int type = typeOrFail(agentType);
        Objects.requireNonNull(agent, "the agent must not be null");
        if (number < 0) {
            throw new IllegalArgumentException("agent numbers are 0 or more, not " + number + " (agent type '" + agentType + "')");
        }
        int possible = table.possibleAgents[type];
        if (possible > 0 && number >= possible) {
            throw new IllegalArgumentException("agent number " + number + " of type '" + agentType + "' is not below "
                    + possible + ", the number of possible agents the model declares (getPossibleAgents())");
        }
        String id = agentType + "_" + number;
        if (agents.containsKey(id)) {
            throw new IllegalStateException("agent " + id + " is in the episode already; give each agent its own number");
        }
        agents.put(id, new Entry(this, id, type, number, agent));
        nextNumber[type] = Math.max(nextNumber[type], number + 1);
        return id;
    }

    /**
     * Agent {@code agentId} leaves the episode: if it has decided before, its last observation and
     * reward are reported at the next crossing (or the end of the run) as terminated; a waiting
     * request of it is dropped. Its id may be used again afterwards.
     */
    public void removeAgent(String agentId) {
        Entry agent = agentOrFail(agentId, "removeAgent");
        agents.remove(agentId);
        waiting.remove(agent);
        if (agent.hasDecided) {
            leaving.add(agent);
        }
    }

    /**
     * Agent {@code agentId} needs a decision: queued until the next {@link #decide()}, which
     * applies its action ({@link RLAgent#takeAction(RLAction)}). Returns at once.
     */
    public void requestAction(String agentId) {
        Entry agent = agentOrFail(agentId, "requestAction");
        if (agent.waiting) {
            throw new IllegalStateException("agent " + agentId + " requested an action again before decide() answered "
                    + "its first request; call decide() after each round of requests");
        }
        agent.waiting = true;
        waiting.add(agent);
    }

    /** {@link #requestAction(String)} and {@link #decide()} in one: the agent's action has been applied on return. */
    public void requestActionNow(String agentId) {
        requestAction(agentId);
        decide();
    }

    /**
     * Answers every waiting agent: one crossing to Python for all of them (more only if more agents
     * wait than one crossing holds, the environment's {@code max_agents}), each agent's action
     * applied before this returns. Does nothing if no agent waits.
     */
    public void decide() {
        if (waiting.isEmpty()) {
            return;
        }
        if (!crossing.isDrivenByAlpyperl() && !crossing.attachRequested()) {
            answerWithPolicies();
            return;
        }
        deciding = true;
        try {
            while (!waiting.isEmpty()) {
                long before = table.crossings();
                crossing.requestAction();
                if (table.crossings() == before) {
                    dropRequests(); // nobody took the crossing: a run that Python does not train (attach mode)
                }
            }
        } finally {
            deciding = false;
        }
    }

    /**
     * Training without exporting (attach mode): when alpyperl's launcher does not run the model (it
     * runs in AnyLogic itself, or in an export started by its own launch script), the connector
     * attaches at its first {@link #decide()} to the Python {@code AnyLogicMultiAgentEnv(attach=True)}
     * waiting for it, which then runs the episodes (see {@link RLConnector#attachToPython()}). Returns
     * this connector.
     */
    public MultiAgentConnector attachToPython() {
        crossing.attachToPython();
        return this;
    }

    /** The waiting requests of a run that Python does not train (the run AnyLogic started, or an abandoned one). */
    private void dropRequests() {
        for (Entry agent : waiting) {
            agent.waiting = false;
        }
        waiting.clear();
    }

    /** How many agents wait for {@link #decide()}. */
    public int waitingAgents() {
        return waiting.size();
    }

    /** The ids of the agents in the episode now, in the order they joined. */
    public List<String> getAgentIds() {
        return new ArrayList<>(agents.keySet());
    }

    /** The random number generator of this episode (see {@link RLConnector#getRandom()}). */
    public Random getRandom() {
        return crossing.getRandom();
    }

    /** The seed of this episode (see {@link RLConnector#getEpisodeSeed()}). */
    public long getEpisodeSeed() {
        return crossing.getEpisodeSeed();
    }

    /** Whether alpyperl chooses the actions (training); false in evaluation mode. */
    public boolean isDrivenByAlpyperl() {
        return crossing.isDrivenByAlpyperl();
    }

    /** The model this connector serves. */
    public MultiAgentModel getModel() {
        return model;
    }

    /**
     * Evaluation mode: the agents of {@code agentType} act by the policy that {@code alpyperl export}
     * wrote to {@code policyFile} (for their type's module). Ignored while alpyperl trains the model.
     * Returns this connector.
     */
    public MultiAgentConnector usePolicy(String agentType, String policyFile) {
        typeOrFail(agentType);
        policyFiles.put(agentType, Objects.requireNonNull(policyFile, "the policy file must not be null"));
        if (crossing.isDrivenByAlpyperl()) {
            PolicyAnswers.announce("training mode: alpyperl chooses the actions; the policy file " + policyFile
                    + " given to usePolicy() for agent type '" + agentType + "' is not used");
        }
        return this;
    }

    /** Evaluation mode: one policy for the agents of every type (all types must share their spaces). Returns this connector. */
    public MultiAgentConnector usePolicy(String policyFile) {
        for (String type : table.types) {
            usePolicy(type, policyFile);
        }
        return this;
    }

    /** In evaluation mode, draws actions from each policy's distribution instead of taking the most likely one. */
    public MultiAgentConnector sampleActions(boolean sample) {
        this.sampling = sample;
        return this;
    }

    /**
     * The id of the agent whose method ({@code takeAction}, {@code getObservation}, {@code getReward},
     * {@code getActionMask}) the connector is calling now on the model's thread, or null; alpyperl
     * labels what the model prints meanwhile with it.
     */
    String agentInCall() {
        return agentInCall;
    }

    // ---- the crossing (called by the table on the model thread) --------------------------------

    Space agreedObservationSpace() {
        return crossing.getObservationSpace();
    }

    Space agreedActionSpace() {
        return crossing.getActionSpace();
    }

    Object agreedAgentTypeSpaces() {
        return crossing.agreedAgentTypeSpaces();
    }

    boolean finished() {
        return ModelCalls.call("hasFinished()", model::hasFinished);
    }

    boolean truncated() {
        return ModelCalls.call("isTruncated()", model::isTruncated);
    }

    /**
     * The agents of the crossing in flight, with their statuses: at a decision, the agents that left,
     * then the waiting ones, up to {@code capacity}; at the end of the episode (the run ended, or the
     * model says it has finished or is truncated), every agent that has decided, a last time.
     */
    void slotsOfCrossing(List<Entry> slots, int[] statuses, int capacity) {
        boolean finished = finished();
        if (deciding && !finished && !truncated()) {
            take(leaving, AgentTable.TERMINATED, slots, statuses, capacity);
            int before = slots.size();
            take(waiting, AgentTable.DECIDES, slots, statuses, capacity);
            for (int k = before; k < slots.size(); k++) {
                slots.get(k).waiting = false;
                slots.get(k).hasDecided = true;
            }
            return;
        }
        if (!deciding && !waiting.isEmpty()) {
            List<String> ids = new ArrayList<>();
            for (Entry agent : waiting) {
                ids.add(agent.id);
            }
            throw new ModelException("the run ended while agents " + (ids.size() > 10 ? ids.subList(0, 10) + "..." : ids)
                    + " waited for their actions: requestAction() only queues a request; call connector.decide() "
                    + "after the requests of an instant (or use requestActionNow())");
        }
        int last = finished ? AgentTable.TERMINATED : AgentTable.TRUNCATED;
        take(leaving, AgentTable.TERMINATED, slots, statuses, capacity);
        List<Entry> remaining = new ArrayList<>();
        for (Entry agent : agents.values()) {
            if (agent.hasDecided) {
                remaining.add(agent);
            }
        }
        if (slots.size() + remaining.size() > capacity) {
            throw new ModelException((slots.size() + remaining.size()) + " agents are in the episode at its end, but a "
                    + "crossing holds " + capacity + "; open the model with AnyLogicMultiAgentEnv(max_agents=...) of at least "
                    + "the number of agents that are in an episode at once");
        }
        take(remaining, last, slots, statuses, capacity);
        waiting.clear();
    }

    private static void take(List<Entry> from, int status, List<Entry> slots, int[] statuses, int capacity) {
        int n = Math.min(from.size(), capacity - slots.size());
        for (int i = 0; i < n; i++) {
            statuses[slots.size()] = status;
            slots.add(from.get(i));
        }
        from.subList(0, n).clear();
    }

    // ---- evaluation mode: each type's ONNX policy answers ----------------------------------------

    private void answerWithPolicies() {
        if (policies == null) {
            policies = new HashMap<>();
            List<Object> policySpaces = new ArrayList<>();
            for (int t = 0; t < table.types.size(); t++) {
                String type = table.types.get(t);
                PolicyAnswers.TypePolicy policy = PolicyAnswers.forAgentType(type, policyFiles.get(type),
                        table.modelObservationSpaces[t], table.modelActionSpaces[t], sampling);
                policies.put(t, policy);
                Map<String, Object> spaces = new HashMap<>();
                spaces.put("observation_space", Json.parse(policy.observationSpace().toJson()));
                spaces.put("action_space", Json.parse(policy.actionSpace().toJson()));
                policySpaces.add(spaces);
            }
            table.settleSpaces(policySpaces); // a type that leaves its spaces to Python has its policy's
        }
        List<Entry> asking = new ArrayList<>(waiting);
        waiting.clear();
        leaving.clear();
        for (Entry agent : asking) {
            agent.waiting = false;
            agent.hasDecided = true;
            agent.reward();
            PolicyAnswers.TypePolicy policy = policies.get(agent.type);
            double[] observation = agent.observe(table.observationSpaces[agent.type]);
            int maskSize = table.maskSizes[agent.type];
            boolean[] mask = maskSize > 0 ? agent.mask(table.actionSpaces[agent.type]) : null;
            agent.act(policy.choose(agent.id, observation, mask, getRandom()));
        }
    }

    private int typeOrFail(String agentType) {
        int type = table.typeIndex(agentType);
        if (type < 0) {
            throw new IllegalArgumentException("unknown agent type '" + agentType + "'; the model's agent types are "
                    + table.types + " (MultiAgentModel.getAgentTypes())");
        }
        return type;
    }

    private Entry agentOrFail(String agentId, String call) {
        Entry agent = agents.get(agentId);
        if (agent == null) {
            throw new IllegalArgumentException(call + "(\"" + agentId + "\"): no agent with this id is in the episode"
                    + (agents.size() <= 20 ? "; its agents are " + agents.keySet() : " (" + agents.size() + " agents)")
                    + ". Add agents with addAgent(type, agent), which returns their ids");
        }
        return agent;
    }

    /** One agent in the episode, with what the connector knows of it. */
    static final class Entry {
        final MultiAgentConnector owner;
        final String id;
        final int type;
        final int number;
        final RLAgent agent;
        boolean waiting;
        /** Whether Python has seen it decide (so its end must be reported). */
        boolean hasDecided;

        Entry(MultiAgentConnector owner, String id, int type, int number, RLAgent agent) {
            this.owner = owner;
            this.id = id;
            this.type = type;
            this.number = number;
            this.agent = agent;
        }

        /** Calls the agent's method {@code method}, with this agent as the connector's agent in call meanwhile. */
        private <T> T call(String method, ModelCalls.ModelCall<T> call) {
            String before = owner.agentInCall;
            owner.agentInCall = id;
            try {
                return ModelCalls.call(method, id, call);
            } finally {
                owner.agentInCall = before;
            }
        }

        double reward() {
            return call("getReward()", agent::getReward);
        }

        double[] observe(Space space) {
            double[] observation = call("getObservation()", agent::getObservation);
            if (observation == null || observation.length != space.flatSize()) {
                throw new ModelException("getObservation() of agent " + id + " returned "
                        + (observation == null ? "null" : observation.length + " values") + ", but the observation space "
                        + "of its type is " + space + " (" + space.flatSize() + " values)");
            }
            return observation;
        }

        boolean[] mask(Space actionSpace) {
            return ActionMask.checked(call("getActionMask()", agent::getActionMask), actionSpace, id,
                    "an agent with nothing to decide should not request an action");
        }

        void act(RLAction action) {
            call("takeAction()", () -> {
                agent.takeAction(action);
                return null;
            });
        }
    }
}
