package com.alpyperl.launcher;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The hand-off with a virtual model thread that its caller's own thread runs ({@link
 * CallerCarrier}): the caller waits by running the model until it hands back, and the model waits
 * by parking, which ends the task its caller runs (a continuation switch, no second OS thread).
 * The {@link ModelWatchdog} looks at the clock for the caller, which cannot while the model runs.
 */
final class CallerHandoff extends Handoff {
    private final CallerCarrier carrier;
    /**
     * The {@link CallerCarrier#taskCount()} of the run in which the model thread began to wait for
     * its turn, or -1 while it does not wait; written with release stores, read by the watchdog.
     */
    private final AtomicLong parkedInRun = new AtomicLong(-1);
    /** {@link #handedBackThisExchange}, allocated once for the caller's wait. */
    private final BooleanSupplier handedBack = this::handedBackThisExchange;

    /** The hand-off of a new instance of the model {@code modelName}, whose model {@code carrier} runs. */
    CallerHandoff(String modelName, CallerCarrier carrier) {
        super(modelName);
        this.carrier = carrier;
        carrier.add(this);
    }

    @Override
    Thread newThread(ModelWorker worker, String name) {
        return VirtualThreads.newThread(task -> schedule(worker, task), name, worker);
    }

    /**
     * Schedules the virtual model thread's next run: on the caller's thread, or once the caller
     * gave up on it, on a thread of its own (an abandoned model never runs on a caller again).
     */
    private void schedule(ModelWorker worker, Runnable task) {
        if (worker.orphaned) {
            Thread runner = new Thread(task, worker.thread.getName() + "-abandoned");
            runner.setDaemon(true);
            runner.start();
        } else {
            carrier.execute(task);
        }
    }

    @Override
    boolean awaitCallerTurn(long timeout) {
        return carrier.runUntil(handedBack, timeout, ctrlCBefore);
    }

    @Override
    void awaitModelTurn(ModelWorker self) {
        parkedInRun.lazySet(carrier.taskCount());
        parkUntilModelTurn(self);
        parkedInRun.lazySet(-1);
    }

    /**
     * Whether this model thread handed its decision back but kept its caller's thread (it is
     * pinned to it): it began to wait for its turn in the run {@code taskCount} of its carrier,
     * which goes on (watchdog).
     */
    boolean waitsInRun(long taskCount) {
        return parkedInRun.get() == taskCount && handedBackThisExchange();
    }

    /**
     * The model thread is pinned to its caller's thread (see {@link #waitsInRun}): gives up on
     * it and wakes it, so that it unwinds its run and lets go of the caller, which then gets this
     * error (called by the watchdog).
     */
    void abandonPinnedOnCaller(String carrierName) {
        ModelWorker stuck = worker();
        failure = pinnedError(stuck, "caller's thread (" + carrierName + ")");
        status = FAILED;
        modelInDecision = false;
        modelThreadStuck = true;
        stuck.orphaned = true;
        LockSupport.unpark(stuck.thread);
    }
}
