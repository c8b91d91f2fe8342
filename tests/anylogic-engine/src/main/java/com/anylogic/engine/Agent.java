// TEST DOUBLE: a stand-in for AnyLogic's engine jar (com.anylogic.engine), NOT AnyLogic. It has
// the classes and methods listed in ../../../shared/anylogic-api.md with the behaviour described
// there, so that the launcher's AnyLogic runtime can be tested on machines without AnyLogic.
// Assembled as lib/com.anylogic.engine.jar into the stand-in export of tests/anylogic-model.
package com.anylogic.engine;

import java.util.List;
import java.util.Random;

/**
 * TEST DOUBLE of AnyLogic's agent. The method signatures that generated code and libraries use are
 * those of AnyLogic 8.7.12's {@code Agent} (public {@code doCreate}/{@code doStart}, final {@code
 * create}/{@code createAsEmbedded}/{@code start}/{@code startAsEmbedded}, ...).
 *
 * <p>Generated code of an agent type overrides the hooks: {@link #doCreate()} (initial values of
 * variables, and {@code createAsEmbedded()} of each embedded agent), {@link #doStart()} (starts
 * its events, and {@code startAsEmbedded()} of each embedded agent), {@link #getEmbeddedObjects()}
 * (its embedded agents), {@link #onStartup()} ("On startup" code), {@link #onDestroy()} (destroys
 * its events with {@code event.onDestroy()}, calls {@code onDestroy()} of its embedded agents, and
 * holds the "On destroy" code), {@link #doFinish()} (calls {@code doFinish()} of its embedded
 * agents), the parameter accessors and the event callbacks. Embedded agents are constructed with
 * {@code (engine, owner, null)} in the owner's constructor, as generated code does.
 *
 * <p>The order of a root's life cycle is that of AnyLogic 8.7.12's {@code Agent}, as read from its
 * class file (an assumption in so far as it was not measured by running): {@link #create()} is {@link #createAsEmbedded()} (so {@code doCreate()}, which
 * creates the embedded agents in turn) followed by {@code onCreate()} of the embedded agents
 * (depth first, in {@link #getEmbeddedObjects()} order) and then of the agent itself; {@link
 * #start()} is {@link #startAsEmbedded()} (so {@code doStart()}: events of the agent and of its
 * embedded agents are scheduled) followed by {@code onStartup()} of the embedded agents and then
 * of the agent itself. So an embedded agent's On startup runs before its owner's.
 */
public class Agent {
    private final Engine engine;
    private final Agent owner;
    private Agent environment;

    /** An agent; for the root agent {@code (engine, null, null)}, for an embedded agent {@code (engine, owner, null)}. */
    public Agent(Engine engine, Agent owner, AgentList<?> collection) {
        this.engine = engine;
        this.owner = owner;
    }

    // ---- life cycle ---------------------------------------------------------------------------

    /** Creates the root agent (called by the engine when the run starts): its contents, then On create. */
    public final void create() {
        createAsEmbedded();
        afterCreate(this);
    }

    /** Creates an embedded agent's contents ({@link #doCreate()}); its owner's generated doCreate calls it. */
    public final void createAsEmbedded() {
        doCreate();
    }

    /** Generated: initial values of the agent's variables, and createAsEmbedded() of its embedded agents. */
    public void doCreate() {
    }

    /** Starts the root agent (called by the engine): its events, then the On startup code of all agents. */
    public final void start() {
        startAsEmbedded();
        startup(this);
    }

    /** Starts an embedded agent's events ({@link #doStart()}); its owner's generated doStart calls it. */
    public final void startAsEmbedded() {
        doStart();
    }

    /** Generated: starts the agent's events, and startAsEmbedded() of its embedded agents. */
    public void doStart() {
    }

    /** Generated: the agent's embedded agents (and populations), or null when it has none. */
    public List<Object> getEmbeddedObjects() {
        return null;
    }

    /** The agent's "On create" code. */
    public void onCreate() {
    }

    /** The agent's "On startup" code. */
    public void onStartup() {
    }

    /**
     * Generated: destroys the agent's events and embedded agents, and runs its "On destroy" code.
     * The engine calls the root's when the run is stopped ({@link Engine#stop()}).
     */
    public void onDestroy() {
    }

    /** Generated: calls doFinish() of the embedded agents. The engine calls the root's when the run finishes. */
    public void doFinish() {
    }

    /** Called by generated parameter setters after a parameter's On change code. */
    public void onChange() {
    }

    private static void afterCreate(Agent agent) {
        forEachEmbedded(agent, Agent::afterCreate);
        agent.onCreate();
    }

    private static void startup(Agent agent) {
        forEachEmbedded(agent, Agent::startup);
        agent.onStartup();
    }

    private static void forEachEmbedded(Agent agent, java.util.function.Consumer<Agent> action) {
        List<Object> embedded = agent.getEmbeddedObjects();
        if (embedded == null) {
            return;
        }
        for (Object object : embedded) {
            if (object instanceof AgentList) {
                for (Agent member : (AgentList<?>) object) {
                    action.accept(member);
                }
            } else if (object instanceof Agent) {
                action.accept((Agent) object);
            }
        }
    }

    // ---- parameters ---------------------------------------------------------------------------

    /** Sets every parameter to its default value. */
    public void setParametersToDefaultValues() {
    }

    /**
     * Sets the parameter {@code name}; false when the agent has no such parameter. Generated code
     * calls the parameter's setter (which runs its On change code) when {@code callOnChange},
     * else sets the field.
     */
    public boolean setParameter(String name, Object value, boolean callOnChange) {
        return false;
    }

    /** The value of the parameter {@code name}. */
    public <T> T getParameter(String name) {
        throw new RuntimeException("unknown parameter " + name);
    }

    /** The names of the agent's parameters. */
    public String[] getParameterNames() {
        return new String[0];
    }

    // ---- where the agent lives ----------------------------------------------------------------

    /** The engine that runs this agent. */
    public Engine getEngine() {
        return engine;
    }

    /** What shows the run (AnyLogic's IDE or an export's UI), or null when nothing does. */
    public IExperimentHost getExperimentHost() {
        return engine.getExperimentHost();
    }

    /** The agent that contains this one, or null for the root. */
    public Agent getOwner() {
        return owner;
    }

    /** The top-level agent of the model: this agent's owner's owner ... (this agent if it is the root). */
    public Agent getRootAgent() {
        Agent agent = this;
        while (agent.getOwner() != null) {
            agent = agent.getOwner();
        }
        return agent;
    }

    /** Places the agent in {@code environment} (generated code passes the owner). */
    public void setEnvironment(Agent environment) {
        this.environment = environment;
    }

    /** The environment the agent lives in, or null. */
    public Agent getEnvironment() {
        return environment;
    }

    // ---- the run ------------------------------------------------------------------------------

    /** The model clock. */
    public double time() {
        return engine.time();
    }

    /** Finishes the run (after the current event); true if the engine accepted. */
    public boolean finishSimulation() {
        return engine.finish();
    }

    /** Pauses the run after the current event; true if the engine was running. */
    public boolean pauseSimulation() {
        return engine.pause();
    }

    /** Uniform in [0, 1), from the engine's default RNG. */
    public double uniform() {
        return engine.getDefaultRandomGenerator().nextDouble();
    }

    /** Uniform in [min, max), from the engine's default RNG. */
    public double uniform(double min, double max) {
        return min + (max - min) * uniform();
    }

    /** The engine's default RNG. */
    public Random getDefaultRandomGenerator() {
        return engine.getDefaultRandomGenerator();
    }

    /** Prints a line to the model's console (static, as in AnyLogic). */
    public static void traceln(Object text) {
        System.out.println(text);
    }

    // ---- events: generated callbacks ------------------------------------------------------------

    /** Generated: how {@code event} recurs. */
    public EventTimeout.Mode getModeOf(EventTimeout event) {
        return EventTimeout.Mode.EVENT_TIMEOUT_MODE_ONCE;
    }

    /** Generated: the model time of the first occurrence of {@code event}. */
    public double getFirstOccurrenceTime(EventTimeout event) {
        return time();
    }

    /** Generated: the period of a cyclic {@code event}. */
    public double evaluateTimeoutOf(EventTimeout event) {
        return 1;
    }

    /** Generated: the action of {@code event}. */
    public void executeActionOf(EventTimeout event) {
    }
}
