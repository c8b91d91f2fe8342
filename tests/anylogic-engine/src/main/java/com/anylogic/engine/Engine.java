package com.anylogic.engine;

import java.util.PriorityQueue;
import java.util.Random;

/**
 * TEST DOUBLE of AnyLogic's engine: one simulation run. Events are kept in a queue ordered by
 * time (equal times in the order scheduled) and executed by {@link #runFast()} on the calling
 * thread. An event scheduled at the stop time is not executed: the run finishes there.
 */
public class Engine {
    /** The states of a run. */
    public enum State { IDLE, PAUSED, RUNNING, FINISHED, ERROR, PLEASE_WAIT }

    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>();
    private volatile State state = State.IDLE;
    private Experiment<?> experiment;
    private Agent root;
    private Random defaultRandom = new Random();
    private double startTime;
    private double time;
    private double stopTime = Double.POSITIVE_INFINITY;
    private long step;
    private long scheduled;
    private boolean pauseRequested;
    private boolean finishRequested;

    /** A fresh engine, for one run. */
    public Engine() {
    }

    /** Links the engine to the experiment that configures it. */
    public void setExperiment(Experiment<?> experiment) {
        this.experiment = experiment;
    }

    /** The experiment, or null. */
    public Experiment<?> getExperiment() {
        return experiment;
    }

    /**
     * Starts the run with {@code root}: creates it and runs its start-up code; the engine is then
     * PAUSED (FINISHED if the start-up code finished the run). An exception is printed, and the
     * engine goes to ERROR.
     */
    public boolean start(Agent root) {
        if (state != State.IDLE) {
            return false;
        }
        if (experiment == null) {
            System.err.println("Warning: the engine has no experiment; model properties cannot be loaded");
        }
        this.root = root;
        time = startTime;
        try {
            root.create();
            root.start();
        } catch (Throwable t) {
            report("Error during model startup:", t);
            return false;
        }
        state = finishRequested ? State.FINISHED : State.PAUSED;
        return true;
    }

    /** Runs events until the engine is paused, finished or stopped; false on error. */
    public boolean runFast() {
        return runFast(Double.POSITIVE_INFINITY);
    }

    /** Like {@link #runFast()}, pausing at {@code until} if that comes before the stop time. */
    public boolean runFast(double until) {
        if (state == State.FINISHED) {
            return true;
        }
        if (state != State.PAUSED) {
            return false;
        }
        state = State.RUNNING;
        pauseRequested = false;
        while (true) {
            if (state != State.RUNNING) {
                return true; // stop() from model code
            }
            if (finishRequested) {
                state = State.FINISHED;
                return true;
            }
            if (pauseRequested) {
                state = State.PAUSED;
                return true;
            }
            Scheduled next = queue.peek();
            double limit = Math.min(until, stopTime);
            if (next == null || next.time >= limit) {
                if (limit < Double.POSITIVE_INFINITY) {
                    time = limit;
                }
                state = until < stopTime && next != null ? State.PAUSED : State.FINISHED;
                return true;
            }
            queue.poll();
            time = next.time;
            step++;
            try {
                next.action.run();
            } catch (Throwable t) {
                report("Exception during discrete event execution:", t);
                return false;
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
            state = State.FINISHED;
        }
        return true;
    }

    /** Stops the run and goes back to IDLE; the events are dropped. */
    public boolean stop() {
        queue.clear();
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

    /** Events executed so far. */
    public long getStep() {
        return step;
    }

    /** The root agent of the run, or null before start. */
    public Agent getRoot() {
        return root;
    }

    void schedule(double at, Runnable action) {
        queue.add(new Scheduled(at, scheduled++, action));
    }

    private void report(String heading, Throwable t) {
        state = State.ERROR;
        System.err.println(heading);
        t.printStackTrace();
    }

    private static final class Scheduled implements Comparable<Scheduled> {
        final double time;
        final long order;
        final Runnable action;

        Scheduled(double time, long order, Runnable action) {
            this.time = time;
            this.order = order;
            this.action = action;
        }

        @Override
        public int compareTo(Scheduled other) {
            int byTime = Double.compare(time, other.time);
            return byTime != 0 ? byTime : Long.compare(order, other.order);
        }
    }
}
