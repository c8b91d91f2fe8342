package com.anylogic.engine;

import java.util.Random;

/**
 * TEST DOUBLE of AnyLogic's agent. Generated code of a model's agent overrides the hooks: {@link
 * #doCreate()} (initial values of variables), {@link #doStart()} (starts events), {@link
 * #onStartup()} ("On startup" code), the parameter accessors and the event callbacks.
 */
public class Agent {
    private final Engine engine;
    private final Agent owner;

    /** An agent; for the root agent {@code (engine, null, null)}. */
    public Agent(Engine engine, Agent owner, AgentList<?> collection) {
        this.engine = engine;
        this.owner = owner;
    }

    /** Creates the agent's contents (called by the engine when the run starts). */
    public void create() {
        doCreate();
        onCreate();
    }

    /** Starts the agent: its events, then its "On startup" code. */
    public void start() {
        doStart();
        onStartup();
    }

    /** Generated: initial values of the agent's variables. */
    protected void doCreate() {
    }

    /** Generated: starts the agent's events. */
    protected void doStart() {
    }

    /** The agent's "On create" code. */
    public void onCreate() {
    }

    /** The agent's "On startup" code. */
    public void onStartup() {
    }

    /** Sets every parameter to its default value. */
    public void setParametersToDefaultValues() {
    }

    /** Sets the parameter {@code name}; false when the agent has no such parameter. */
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

    /** The engine that runs this agent. */
    public Engine getEngine() {
        return engine;
    }

    /** The agent that contains this one, or null for the root. */
    public Agent getOwner() {
        return owner;
    }

    /** The model clock. */
    public double time() {
        return engine.time();
    }

    /** Finishes the run. */
    public void finishSimulation() {
        engine.finish();
    }

    /** Pauses the run. */
    public void pauseSimulation() {
        engine.pause();
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

    /** Prints a line to the model's console. */
    public void traceln(Object text) {
        System.out.println(text);
    }

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
