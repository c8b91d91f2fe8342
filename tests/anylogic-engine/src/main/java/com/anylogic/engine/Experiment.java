package com.anylogic.engine;

import java.util.Random;

/**
 * TEST DOUBLE of AnyLogic's experiment base class. {@code ROOT} is the root agent's class. As in
 * AnyLogic 8.7.12, only the engine's own experiment kinds extend it directly (its constructor is
 * package-private); models extend {@link ExperimentSimulation}.
 */
public abstract class Experiment<ROOT extends Agent> {
    private String[] commandLineArguments;

    Experiment() {
    }

    /** Constructs the root agent for {@code engine}. */
    public abstract ROOT createRoot(Engine engine);

    /** Applies the experiment's engine settings (stop time, ...); generated experiments override it. */
    public void setupEngine(Engine engine) {
    }

    /** Gives the engine its default RNG: a randomly seeded one unless the experiment overrides this ("Fixed seed"). */
    public void initDefaultRandomNumberGenerator(Engine engine) {
        engine.setDefaultRandomGenerator(new Random());
    }

    /** The command line the model's application was started with; empty when none was given. */
    public final String[] getCommandLineArguments() {
        if (commandLineArguments == null) {
            commandLineArguments = new String[0];
        }
        return commandLineArguments;
    }

    /** Generated main(): records the command line. */
    public void setCommandLineArguments_xjal(String[] arguments) {
        commandLineArguments = arguments;
    }
}
