package com.anylogic.engine;

/**
 * TEST DOUBLE of AnyLogic's custom experiment: a model's experiment whose {@link #run()} code
 * creates engines ({@link #createEngine()}) and drives them itself. Not needed to drive a model.
 */
public abstract class ExperimentCustom {
    private String[] commandLineArguments;

    /**
     * A custom experiment; {@code parentExperiment} is the experiment that runs it, or null when it
     * is the model's main experiment.
     *
     * @throws IllegalArgumentException if {@code parentExperiment} is neither null nor an experiment
     */
    public ExperimentCustom(Object parentExperiment) {
        if (parentExperiment != null && !(parentExperiment instanceof Experiment)
                && !(parentExperiment instanceof ExperimentCustom)) {
            throw new IllegalArgumentException("the parent of a custom experiment must be an experiment or null, not "
                    + parentExperiment.getClass().getName());
        }
    }

    /** A new engine, linked to this experiment and set up by {@link #setupEngine_xjal}. */
    public final Engine createEngine() {
        Engine engine = new Engine();
        engine.setExperimentCustom(this);
        setupEngine_xjal(engine);
        return engine;
    }

    /** Generated: the experiment's engine settings. */
    public void setupEngine_xjal(Engine engine) {
    }

    /** The experiment's code. */
    public abstract void run();

    /** The command line the model's application was started with; empty when none was given. */
    public final String[] getCommandLineArguments() {
        if (commandLineArguments == null) {
            commandLineArguments = new String[0];
        }
        return commandLineArguments;
    }

    /** Generated: records the command line. */
    public void setCommandLineArguments_xjal(String[] arguments) {
        commandLineArguments = arguments;
    }
}
