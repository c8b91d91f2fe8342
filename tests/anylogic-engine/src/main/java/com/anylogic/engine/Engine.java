package com.anylogic.engine;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * TEST DOUBLE of AnyLogic's engine: one simulation run. Events are kept in a queue ordered by
 * time (equal times in the order scheduled) and executed by {@link #runFast()} on the calling
 * thread. It behaves as measured on AnyLogic 8.7.12:
 *
 * <ul>
 * <li>{@link #start(Agent)} creates the root ({@link Agent#create()}) and starts it ({@link
 * Agent#start()}). An exception while creating it (a variable's initial value) escapes {@code
 * start} and nothing is printed. An exception in On startup is printed on {@code System.err}
 * after {@code Error during model startup:}, the engine goes to {@code ERROR} and {@code start}
 * returns <b>true</b>.
 * <li>{@link #runFast()} refuses a root class that AnyLogic did not generate (see {@link
 * #runFast()}).
 * <li>An exception or error thrown by an event is printed on {@code System.err} after {@code
 * Exception during discrete event execution:}, followed by its message, its exception line and
 * its stack trace; the engine goes to {@code ERROR} and {@code runFast} returns <b>true</b>.
 * <li>An event scheduled at the stop time (or, by the drift of cyclic events, just before it) runs;
 * the run finishes when the next event lies after the stop time.
 * <li>{@link #stop()} runs the root's On destroy code ({@link Agent#onDestroy()}); events still
 * scheduled after that are reported as {@code INTERNAL ERROR(S): Engine still has N events
 * scheduled}.
 * </ul>
 *
 * <p>Read from AnyLogic 8.7.12's class files rather than measured: only {@code root.start()} is
 * inside the engine's error handling (so an exception while starting events is a start-up error
 * too, and after an exception in an initial value the engine stays in {@code PLEASE_WAIT}); when
 * the run finishes (stop time, {@code finish()}) the engine calls the root's {@link
 * Agent#doFinish()}. Assumed and simplified here: an exception in doFinish or On destroy is
 * printed (with wording of this stand-in) and otherwise ignored; {@link #runFast(double)} pauses at
 * the given time; simultaneous events run in the order they were scheduled; {@link #getRunCount()}
 * is 1 during the first run.
 */
public final class Engine {
    /** The states of a run. */
    public enum State { IDLE, PAUSED, RUNNING, FINISHED, ERROR, PLEASE_WAIT }

    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>();
    private volatile State state = State.IDLE;
    private Experiment<?> experiment;
    private ExperimentCustom experimentCustom;
    private Agent root;
    private IExperimentHost experimentHost;
    private Random defaultRandom = new Random();
    private double startTime;
    private double time;
    private double stopTime = Double.POSITIVE_INFINITY;
    private long step;
    private long scheduled;
    private int runCount;
    private boolean pauseRequested;
    private boolean finishRequested;

    /** A fresh engine, for one run (or several, one after another, with {@link #stop()} in between). */
    public Engine() {
    }

    /** Links the engine to the simulation experiment that configures it. */
    public void setExperiment(Experiment<?> experiment) {
        this.experiment = experiment;
    }

    /** The simulation experiment, or null. */
    public Experiment<?> getExperiment() {
        return experiment;
    }

    /** What shows the run (AnyLogic's IDE or an export's UI), or null when nothing does (headless). */
    public IExperimentHost getExperimentHost() {
        return experimentHost;
    }

    void setExperimentHost(IExperimentHost host) {
        this.experimentHost = host;
    }

    /** The custom experiment that created this engine ({@link ExperimentCustom#createEngine()}), or null. */
    public ExperimentCustom getExperimentCustom() {
        return experimentCustom;
    }

    void setExperimentCustom(ExperimentCustom experimentCustom) {
        this.experimentCustom = experimentCustom;
    }

    /**
     * Starts a run with {@code root}: creates it and runs its start-up code; the engine is then
     * PAUSED (FINISHED if the start-up code finished the run). False if the engine is not IDLE.
     * As measured on AnyLogic 8.7.12: an exception in On startup is printed after {@code Error
     * during model startup:} and leaves the engine in ERROR, and start returns <b>true</b>; an
     * exception while the root is created (initial values of variables) escapes this method and
     * nothing is printed.
     */
    public synchronized boolean start(Agent root) {
        if (state != State.IDLE) {
            return false;
        }
        if (experiment == null && experimentCustom == null) {
            System.err.println("Warning: the engine has no experiment; model properties cannot be loaded");
        }
        this.root = root;
        time = startTime;
        step = 0;
        pauseRequested = false;
        finishRequested = false;
        runCount++;
        state = State.PLEASE_WAIT;
        root.create();
        try {
            root.start();
        } catch (Throwable t) {
            state = State.ERROR;
            System.err.println("Error during model startup:");
            t.printStackTrace();
            return true;
        }
        if (finishRequested) {
            finishRun();
        } else {
            state = State.PAUSED;
        }
        return true;
    }

    /** Runs events until the engine is paused, finished or stopped; see {@link #runFast(double)}. */
    public synchronized boolean runFast() {
        return runFast(Double.POSITIVE_INFINITY);
    }

    /**
     * Runs events until the engine is paused, finished or stopped, or the next event lies after
     * {@code until} (then it pauses at {@code until}). Returns false if the engine was neither
     * PAUSED nor FINISHED; true otherwise, also when an event failed (state ERROR), as measured on
     * AnyLogic 8.7.12.
     *
     * <p>Only models that AnyLogic generated run. As measured on AnyLogic 8.7.12, a root agent whose
     * class was not generated by AnyLogic is refused: no event runs, the engine is FINISHED at time
     * Infinity, {@code Invalid start location for AnyLogic Runtime} is printed, and 0.1 to 1 s later
     * a thread of the engine calls {@code System.exit(-1)}, which ends the whole process. AnyLogic's
     * check involves the serialVersionUID its code generator writes into the root class; this
     * stand-in checks a simplified rule: the root class declares a {@code static final long
     * serialVersionUID} field.
     */
    public synchronized boolean runFast(double until) {
        if (state == State.FINISHED) {
            return true;
        }
        if (state != State.PAUSED) {
            return false;
        }
        if (!generatedByAnyLogic(root.getClass())) {
            refuseRun();
            return true;
        }
        state = State.RUNNING;
        pauseRequested = false;
        while (true) {
            if (state != State.RUNNING) {
                return true; // stop() from model code
            }
            if (finishRequested) {
                finishRun();
                return true;
            }
            if (pauseRequested) {
                state = State.PAUSED;
                return true;
            }
            Scheduled next = queue.peek();
            if (next == null || next.time > stopTime) {
                if (stopTime < Double.POSITIVE_INFINITY) {
                    time = stopTime;
                }
                finishRun();
                return true;
            }
            if (next.time > until) {
                time = until;
                state = State.PAUSED;
                return true;
            }
            queue.poll();
            time = next.time;
            step++;
            try {
                next.event.execute();
            } catch (Throwable t) {
                state = State.ERROR;
                System.err.println("Exception during discrete event execution:");
                System.err.println(t.getMessage());
                t.printStackTrace();
                return true;
            }
        }
    }

    /** Pauses a running engine after the current event. */
    public boolean pause() {
        if (state != State.RUNNING) {
            return false;
        }
        pauseRequested = true;
        return true;
    }

    /** Finishes the run (after the current event, if running). */
    public boolean finish() {
        finishRequested = true;
        if (state == State.PAUSED) {
            finishRun();
        }
        return true;
    }

    /**
     * Stops the run and goes back to IDLE; false if it was IDLE. As measured on AnyLogic 8.7.12, it
     * runs the root's On destroy code ({@link Agent#onDestroy()}, where generated code destroys the
     * agents' events), and if events are still scheduled after that it prints {@code INTERNAL
     * ERROR(S): Engine still has N events scheduled} and drops them.
     */
    public synchronized boolean stop() {
        if (state == State.IDLE) {
            return false;
        }
        Agent destroyed = root;
        root = null;
        if (destroyed != null) {
            try {
                destroyed.onDestroy();
            } catch (Throwable t) {
                System.err.println("Error in the On destroy code of the model:");
                t.printStackTrace();
            }
        }
        if (!queue.isEmpty()) {
            System.err.println("INTERNAL ERROR(S): Engine still has " + queue.size() + " events scheduled");
            queue.clear();
        }
        state = State.IDLE;
        return true;
    }

    /** The state of the run. */
    public State getState() {
        return state;
    }

    /** The model clock. */
    public double time() {
        return time;
    }

    /** The time the run starts at. */
    public void setStartTime(double startTime) {
        this.startTime = startTime;
    }

    /** The time the run starts at (0 unless set). */
    public double getStartTime() {
        return startTime;
    }

    /** The time the run finishes at; infinite when none is set. */
    public double getStopTime() {
        return stopTime;
    }

    /** Sets the time the run finishes at. */
    public void setStopTime(double stopTime) {
        this.stopTime = stopTime;
    }

    /** The RNG the model's distributions use by default. */
    public Random getDefaultRandomGenerator() {
        return defaultRandom;
    }

    /** Replaces the default RNG. */
    public void setDefaultRandomGenerator(Random random) {
        this.defaultRandom = random;
    }

    /** Events executed so far in this run. */
    public long getStep() {
        return step;
    }

    /** How many runs this engine has started (1 during its first run). */
    public int getRunCount() {
        return runCount;
    }

    /** The root agent of the run, or null before start and after stop. */
    public Agent getRoot() {
        return root;
    }

    Scheduled schedule(double at, EventTimeout event) {
        Scheduled occurrence = new Scheduled(at, scheduled++, event);
        queue.add(occurrence);
        return occurrence;
    }

    void cancel(Scheduled occurrence) {
        queue.remove(occurrence);
    }

    private void finishRun() {
        state = State.FINISHED;
        try {
            root.doFinish();
        } catch (Throwable t) {
            System.err.println("Error in the model when the run finished:");
            t.printStackTrace();
        }
    }

    /** The simplified check of this stand-in: AnyLogic's code generator writes a serialVersionUID into every agent class. */
    private static boolean generatedByAnyLogic(Class<?> rootClass) {
        try {
            Field field = rootClass.getDeclaredField("serialVersionUID");
            int modifiers = field.getModifiers();
            return field.getType() == long.class && Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers);
        } catch (NoSuchFieldException e) {
            return false;
        }
    }

    /** As AnyLogic 8.7.12 does with a root it did not generate: the run is over, and soon the process. */
    private void refuseRun() {
        state = State.FINISHED;
        time = Double.POSITIVE_INFINITY;
        System.err.println("Invalid start location for AnyLogic Runtime");
        Thread exit = new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                // exit now
            }
            System.exit(-1);
        }, "AnyLogic engine exit");
        exit.setDaemon(false);
        exit.start();
    }

    /** One scheduled occurrence of an event. */
    static final class Scheduled implements Comparable<Scheduled> {
        final double time;
        final long order;
        final EventTimeout event;

        Scheduled(double time, long order, EventTimeout event) {
            this.time = time;
            this.order = order;
            this.event = event;
        }

        @Override
        public int compareTo(Scheduled other) {
            int byTime = Double.compare(time, other.time);
            return byTime != 0 ? byTime : Long.compare(order, other.order);
        }
    }
}
