package com.alpyperl.launcher;

import com.alpyperl.connector.EpisodeAbandoned;
import com.alpyperl.connector.ModelException;
import com.alpyperl.launcher.runtime.ModelLoadException;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The hand-off between a session's caller and its model thread, which take turns like coroutines:
 * whose turn it is, what the caller asks and what the model thread reports (both published by the
 * volatile write of the turn), how each side waits for its turn, and giving up on a model thread
 * that does not hand back in time. One subclass per kind of model thread, which creates the
 * thread and says how it waits: {@link PlatformHandoff}, {@link LaneHandoff}, {@link CallerHandoff}.
 */
abstract class Handoff {
    /** Status: the model failed; {@link #outcome()} throws its failure. */
    static final int FAILED = 3;

    /** Command: create the model to read its spaces. */
    static final int PROBE = 1;
    /** Command: run an episode (seed and parameters below) to its first decision. */
    static final int RUN_EPISODE = 2;
    /** Command: apply the action in the shared row and run to the next decision. */
    static final int STEP = 3;
    /** Command: end the episode, if any, and the model thread. */
    static final int CLOSE = 4;

    private static final int CALLER = 0;
    private static final int MODEL = 1;
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /** The name of the model (for messages). */
    final String modelName;
    /** The label of the model instance ({@code <model name>#<n>}). */
    final String label;
    private final Object handoffLock = new Object();
    private volatile int turn = CALLER;
    private volatile boolean callerParked;
    /** Whether the model thread is parked waiting for its turn (the caller then unparks it). */
    volatile boolean modelParked;
    private volatile Thread caller;
    private final SpinPolicy callerSpin = new SpinPolicy(SpinPolicy.DEFAULT_SPIN_NANOS);
    /** The lane carrying out the current exchange for a group step (it is told of the hand-back), or null. */
    private CarrierLane exchangeLane;
    private String pendingGoal = "";
    /** What runs the model now, and its thread (replaced after a timeout). */
    private ModelWorker worker;
    /** The caller gave up on the model thread (timeout); the next reset starts a new one. */
    boolean modelThreadStuck;
    /** {@link CtrlCHandler#presses()} when the caller handed the current exchange over: a later Ctrl-C ends its wait. */
    long ctrlCBefore;
    /** The step timeout in nanoseconds. */
    long timeoutNanos = 10_000_000_000L;

    // ---- what the caller asks of the model thread (published by the volatile write of turn) --
    int command;
    long episodeSeed;
    Map<String, Object> parameters = Collections.emptyMap();
    boolean abandonEpisode;

    // ---- what the model thread reports back (published by the volatile write of turn) --------
    int status = ModelSession.TRUNCATED;
    Throwable failure;
    boolean modelInDecision;
    String probeResult;
    /** Whether the instance created by the last {@link #PROBE} implements {@code Drawable}. */
    boolean modelDraws;
    /** Whether the instance created by the last {@link #PROBE} has an action mask ({@code MaskedModel}). */
    boolean modelUsesMask;

    /** The hand-off of a new instance of the model {@code modelName}. */
    Handoff(String modelName) {
        this.modelName = modelName;
        this.label = modelName + "#" + INSTANCES.incrementAndGet();
    }

    /** An unstarted thread, of this hand-off's kind, named {@code name}, that runs {@code worker}. */
    abstract Thread newThread(ModelWorker worker, String name);

    /** Model thread: waits until it is the model's turn, or until the caller gave up on {@code self}. */
    abstract void awaitModelTurn(ModelWorker self);

    /** The worker whose thread runs the model now. */
    final ModelWorker worker() {
        return worker;
    }

    /** From now on {@code next} runs the model (before its thread starts). */
    final void serveWith(ModelWorker next) {
        worker = next;
    }

    // ---- the caller's side ----------------------------------------------------------------------

    /**
     * Gives the turn to the model thread with {@code command}, which is to {@code goal} (for the
     * timeout message); {@code byLane}, if not null, carries out the exchange and is told of the
     * hand-back.
     */
    final void handOver(int command, String goal, CarrierLane byLane) {
        this.command = command;
        ctrlCBefore = CtrlCHandler.presses();
        pendingGoal = goal;
        exchangeLane = byLane;
        if (byLane == null) {
            caller = Thread.currentThread(); // the one to wake when the model hands back
        }
        handingOver();
        turn = MODEL;
        if (modelParked) {
            LockSupport.unpark(worker.thread);
        }
    }

    /** Called just before the turn goes to the model thread. */
    void handingOver() {
    }

    /** Waits for the model thread's outcome within {@code timeout}: the status, or the model's failure as an exception. */
    final int awaitOutcome(long timeout) {
        return awaitOutcome(timeout, timeout);
    }

    /**
     * As {@link #awaitOutcome(long)}, waiting at most {@code wait} (what is left of a step's
     * {@code timeout} that began earlier), and reporting a model that is stuck by then as not
     * having made it within {@code timeout}.
     */
    final int awaitOutcome(long wait, long timeout) {
        boolean handedBack;
        try {
            handedBack = awaitCallerTurn(wait);
        } catch (StepInterruptedException interrupted) {
            throw abandonAfterInterrupt();
        }
        if (!handedBack) {
            StepTimeoutException stuck = abandonIfStuck(timeout);
            if (stuck != null) {
                throw stuck;
            }
        }
        return outcome();
    }

    /**
     * Waits until the model thread hands back: spins while spinning pays off, else parks. Returns
     * false if {@code timeout} ran out first.
     */
    boolean awaitCallerTurn(long timeout) {
        long start = System.nanoTime();
        long spin = callerSpin.nextSpin();
        while (turn != CALLER) {
            long waited = System.nanoTime() - start;
            if (waited < spin) {
                Thread.onSpinWait();
                continue;
            }
            if (waited >= timeout) {
                return false;
            }
            callerParked = true;
            if (turn != CALLER) {
                LockSupport.parkNanos(this, Math.max(timeout - waited, 1000L));
            }
            callerParked = false;
            if (Thread.interrupted() || CtrlCHandler.pressedSince(ctrlCBefore)) {
                throw new StepInterruptedException("the step was interrupted while it waited for the model");
            }
        }
        callerSpin.waited(spin, System.nanoTime() - start);
        return true;
    }

    /** Whether the model has handed the current exchange back. */
    final boolean handedBackThisExchange() {
        return turn == CALLER;
    }

    /** The status of an exchange whose model has handed back, or the model's failure as an exception. */
    final int outcome() {
        if (status == FAILED) {
            Throwable cause = failure;
            if (cause instanceof ModelLoadException || cause instanceof StepTimeoutException) {
                throw (RuntimeException) cause;
            }
            throw new ModelException(failureMessage(cause), cause);
        }
        return status;
    }

    private String failureMessage(Throwable cause) {
        if (cause instanceof ModelException) {
            return "The model " + modelName + " failed: " + cause.getMessage();
        }
        return "The model " + modelName + " threw " + cause;
    }

    // ---- giving up on the model thread ------------------------------------------------------------

    /**
     * The caller was interrupted while it waited (Ctrl-C): gives up on the model thread unless it
     * has handed back, and returns the error to throw.
     */
    final StepInterruptedException abandonAfterInterrupt() {
        StepInterruptedException interrupted = abandonOnCtrlC();
        return interrupted != null ? interrupted : new StepInterruptedException("The step of the model " + modelName
                + " was interrupted (Ctrl-C) while it waited for the model to " + pendingGoal);
    }

    /**
     * Ctrl-C was pressed while the caller waited: gives up on the model thread and returns the error
     * to throw, or null if the model has handed back after all.
     */
    final StepInterruptedException abandonOnCtrlC() {
        String goal = pendingGoal;
        if (abandonIfStuck(timeoutNanos) == null) {
            return null;
        }
        return new StepInterruptedException("The step of the model " + modelName + " was interrupted (Ctrl-C) while "
                + "it waited for the model to " + goal + "; the model was given up on, and reset() starts a new model "
                + "thread");
    }

    /**
     * The wait for the model ran out: gives up on the model thread unless it has handed back, and
     * returns the timeout to report (null if it handed back in time after all).
     */
    final StepTimeoutException abandonIfStuck(long timeout) {
        ModelWorker stuck;
        synchronized (handoffLock) {
            if (turn == CALLER) {
                return null;
            }
            stuck = worker;
            stuck.orphaned = true;
        }
        markStuck();
        return new StepTimeoutException("The model " + modelName + " did not " + pendingGoal + " within "
                + (timeout / 1e9) + " s (step_timeout). Its thread " + stuck.thread.getName() + " is at:"
                + stackOf(stuck.thread)
                + "\nIt may loop forever or wait for something that never comes. reset() starts a new model thread.");
    }

    /** Gives up on the model thread although it handed back (it is pinned); returns it. */
    final ModelWorker orphanWorker() {
        ModelWorker stuck;
        synchronized (handoffLock) {
            stuck = worker;
            stuck.orphaned = true;
        }
        markStuck();
        return stuck;
    }

    final void markStuck() {
        modelThreadStuck = true;
        status = FAILED;
        modelInDecision = false;
    }

    /**
     * The error for a model whose virtual thread {@code stuck} handed its decision back but kept
     * {@code heldThread} (it is pinned to it).
     */
    final StepTimeoutException pinnedError(ModelWorker stuck, String heldThread) {
        return new StepTimeoutException("The model " + modelName + " handed its decision back, but its "
                + "virtual thread " + stuck.thread.getName() + " did not let go of its " + heldThread
                + " within " + (timeoutNanos / 1e9) + " s (step_timeout): it is pinned to it, which happens when "
                + "requestAction() is called from native code or from a class initializer. Run this model with "
                + "model_threads=\"platform\". Its thread is at:" + stackOf(stuck.thread)
                + "\nreset() starts a new model thread.");
    }

    /** After the stuck model thread was stopped: the next exchange starts from a clean state with a new one. */
    final void forgetStuckThread() {
        modelThreadStuck = false;
        status = ModelSession.TRUNCATED;
        modelInDecision = false;
        turn = CALLER;
    }

    /** The model's label and the stack of its thread, for the watchdog's report. */
    final String whereTheModelIs() {
        Thread thread = worker.thread;
        return "\nThe model " + label + " (thread " + thread.getName() + ") is at:" + stackOf(thread);
    }

    static String stackOf(Thread thread) {
        StringBuilder where = new StringBuilder();
        for (StackTraceElement frame : thread.getStackTrace()) {
            where.append("\n\tat ").append(frame);
        }
        return where.toString();
    }

    // ---- the model thread's side ------------------------------------------------------------------

    /** Parks until it is the model's turn or the caller gave up on {@code self} (a virtual thread never spins). */
    final void parkUntilModelTurn(ModelWorker self) {
        while (turn != MODEL && !self.orphaned) {
            modelParked = true;
            if (turn != MODEL) {
                LockSupport.park(this);
            }
            modelParked = false;
        }
    }

    /** Whether it is the model thread's turn. */
    final boolean isModelTurn() {
        return turn == MODEL;
    }

    /**
     * Reports the outcome, writing {@code observation} (if not null) and {@code reward} into
     * {@code row} under the same lock, and gives the turn back to the caller; an orphaned thread
     * (the caller gave up on it) unwinds instead, so it never overwrites what a newer thread reports.
     */
    final void handBack(ModelWorker self, int newStatus, boolean inDecision, Throwable cause,
            SharedRow row, double[] observation, double reward) {
        synchronized (handoffLock) {
            if (self.orphaned) {
                throw new EpisodeAbandoned();
            }
            if (observation != null) {
                row.writeObservation(observation, reward);
            }
            status = newStatus;
            modelInDecision = inDecision;
            failure = cause;
            turn = CALLER;
        }
        CarrierLane notified = exchangeLane;
        if (notified != null) {
            notified.handedBack();
        } else if (callerParked) {
            LockSupport.unpark(caller);
        }
    }
}
