package com.anylogic.engine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * TEST DOUBLE of the AnyLogic IDE running a model's simulation experiment, for tests of models
 * that attach to Python: {@code java ... com.anylogic.engine.StandInIde <experiment class>} reads
 * the buttons a person presses from standard input, one per line:
 *
 * <ul>
 * <li>{@code run}: as AnyLogic's Run button: a new engine and root set up as the experiment says
 * (its engine settings, its random seed, its parameters), started, shown, and run by a thread of
 * the IDE ("AnyLogic engine"), which prints {@code [ide] run returned STATE} when the run pauses
 * or ends;</li>
 * <li>{@code stop}: as the Stop button: {@code engine.stop()} from the IDE's own thread (it waits
 * while a running event holds the engine), then {@code [ide] stopped};</li>
 * <li>{@code exit}: the IDE closes (the process exits at once).</li>
 * </ul>
 *
 * Each agent the IDE is asked to show is announced as {@code [ide] showing root N} (N counts the
 * roots shown in this process).
 */
public final class StandInIde implements IExperimentHost {
    private int shown;

    @Override
    public synchronized void setPresentable(Object presentable) {
        shown++;
        System.out.println("[ide] showing root " + shown + " (" + presentable.getClass().getSimpleName() + ")");
    }

    /** The IDE: {@code args[0]} is the experiment class. */
    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Class<?> experimentClass = Class.forName(args[0]);
        StandInIde ide = new StandInIde();
        Engine engine = null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        System.out.println("[ide] ready");
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            String button = line.trim();
            if (button.equals("run")) {
                engine = ide.run((ExperimentSimulation<Agent>) experimentClass.getConstructor().newInstance());
            } else if (button.equals("stop") && engine != null) {
                engine.stop();
                System.out.println("[ide] stopped");
            } else if (button.equals("exit")) {
                System.out.println("[ide] closing");
                Runtime.getRuntime().halt(0);
            }
        }
    }

    private Engine run(ExperimentSimulation<Agent> experiment) throws IOException {
        Engine engine = new Engine();
        engine.setExperiment(experiment);
        engine.setExperimentHost(this);
        experiment.setupEngine(engine);
        experiment.initDefaultRandomNumberGenerator(engine);
        Agent root = experiment.createRoot(engine);
        experiment.setupRootParameters(root, false);
        Thread runner = new Thread(() -> {
            engine.start(root);
            setPresentable(root);
            engine.runFast();
            System.out.println("[ide] run returned " + engine.getState());
        }, "AnyLogic engine");
        runner.setDaemon(true);
        runner.start();
        return engine;
    }
}
