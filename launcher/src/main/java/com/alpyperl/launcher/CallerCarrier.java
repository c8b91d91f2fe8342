package com.alpyperl.launcher;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The scheduler of virtual model threads that run on the thread of their caller: the thread that
 * waits for a model to reach its next decision runs the model itself ({@link #runUntil}), so a
 * step is a continuation switch on one OS thread, with no second thread to wake.
 *
 * <p>A model thread that is scheduled while nobody waits for it (a model's timer went off, a lock
 * it waited for came free) runs the next time its caller waits. The caller cannot look at the
 * clock while a model runs on its thread: {@link ModelWatchdog} does, by watching {@link
 * #taskCount()}.
 *
 * <p>The thread that runs the models must hold no monitor while it does: the JVM crashes when a
 * virtual thread yields on top of a carrier that holds one (seen on Java 25).
 */
final class CallerCarrier implements Executor {
    /** Model threads scheduled by other threads. */
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Model threads scheduled by the serving thread itself (it unparked them): no atomics needed. */
    private final ArrayDeque<Runnable> ownTasks = new ArrayDeque<>();
    private final String name;
    /** The thread that ran the models last (callers take turns under their session's lock). */
    private volatile Thread serving;
    private volatile boolean servingParked;
    /**
     * Twice the number of tasks run, plus one while a task runs; written with release stores
     * (cheap on the caller), read by the watchdog.
     */
    private final AtomicLong taskCount = new AtomicLong();
    private long tasksCounted;
    /** The hand-offs with the model threads this carrier runs. */
    private final List<CallerHandoff> sessions = new CopyOnWriteArrayList<>();

    // ---- the watchdog's notes (its thread only) ----------------------------------------------
    private long watchedCount = -1;
    private long watchedSince;
    private boolean reported;

    // ---- Ctrl-C's notes (the JVM's signal thread only) -----------------------------------------
    /** {@link #noteCtrlC()}: no model computes on the caller's thread. */
    static final int NO_MODEL_COMPUTES = 0;
    /** {@link #noteCtrlC()}: a model computes on the caller's thread. */
    static final int MODEL_COMPUTES = 1;
    /** {@link #noteCtrlC()}: a model computes on the caller's thread, in the same wait as at the last Ctrl-C. */
    static final int MODEL_STILL_COMPUTES = 2;
    private long waitAtCtrlC = -1;
    /** How many times a caller has begun to wait ({@link #runUntil}); written with release stores. */
    private final AtomicLong waits = new AtomicLong();
    private long waitsCounted;

    CallerCarrier(String name) {
        this.name = name;
    }

    /** Schedules a virtual model thread's next run (called by the JDK when one is started or unparked). */
    @Override
    public void execute(Runnable task) {
        Thread current = Thread.currentThread();
        if (current == serving) {
            ownTasks.add(task);
            return;
        }
        tasks.add(task);
        if (servingParked) {
            LockSupport.unpark(serving);
        }
    }

    /**
     * Runs this carrier's model threads on the calling thread until {@code done} holds or {@code
     * timeoutNanos} have passed without a model thread to run; returns whether {@code done}
     * holds. A model that never lets go of the thread (an endless loop) cannot be interrupted; a
     * wait for a model that does is ended by interrupting the calling thread, or by Ctrl-C since
     * {@link CtrlCHandler#presses()} was {@code ctrlCBefore} ({@link StepInterruptedException}).
     */
    boolean runUntil(BooleanSupplier done, long timeoutNanos, long ctrlCBefore) {
        Thread self = Thread.currentThread();
        if (serving != self) {
            serving = self;
        }
        waits.lazySet(++waitsCounted); // callers take turns under their group's lock
        long start = 0;
        while (true) {
            Runnable task = ownTasks.poll();
            if (task == null) {
                task = tasks.poll();
            }
            if (task != null) {
                taskCount.lazySet(++tasksCounted); // odd: a model runs
                try {
                    task.run();
                } finally {
                    taskCount.lazySet(++tasksCounted);
                }
                continue;
            }
            if (done.getAsBoolean()) {
                return true;
            }
            long now = System.nanoTime();
            if (start == 0) {
                start = now;
            } else if (now - start >= timeoutNanos) {
                return false;
            }
            servingParked = true;
            if (tasks.isEmpty() && !done.getAsBoolean()) {
                LockSupport.parkNanos(this, timeoutNanos - (now - start));
            }
            servingParked = false;
            if (Thread.interrupted() || CtrlCHandler.pressedSince(ctrlCBefore)) {
                throw new StepInterruptedException("the step was interrupted while it waited for the model");
            }
        }
    }

    /** Twice the number of model thread runs so far, plus one while a model thread runs. */
    long taskCount() {
        return taskCount.get();
    }

    /** The thread that runs (or ran last) this carrier's model threads. */
    Thread servingThread() {
        return serving;
    }

    /** Adds the hand-off with a model thread that this carrier runs. */
    void add(CallerHandoff session) {
        sessions.add(session);
    }

    /** The hand-offs with the model threads this carrier runs. */
    List<CallerHandoff> sessions() {
        return sessions;
    }

    /** The carrier's name (diagnostics). */
    String name() {
        return name;
    }

    /**
     * The watchdog's look at this carrier at {@code now}: for how long the model thread that runs
     * now has run (0 if none runs, or it has just started).
     */
    long runningFor(long now) {
        long count = taskCount.get();
        if ((count & 1) == 0) {
            watchedCount = -1;
            return 0;
        }
        if (count != watchedCount) {
            watchedCount = count;
            watchedSince = now;
            reported = false;
        }
        return now - watchedSince;
    }

    /**
     * Ctrl-C was pressed while the caller waits for this carrier's models: whether a model computes
     * on the caller's thread now ({@link #MODEL_COMPUTES}), and has since a Ctrl-C earlier in the
     * same wait (a step; {@link #MODEL_STILL_COMPUTES}), or none does ({@link #NO_MODEL_COMPUTES}).
     */
    int noteCtrlC() {
        if ((taskCount.get() & 1) == 0) {
            waitAtCtrlC = -1;
            return NO_MODEL_COMPUTES;
        }
        long wait = waits.get();
        if (wait == waitAtCtrlC) {
            return MODEL_STILL_COMPUTES;
        }
        waitAtCtrlC = wait;
        return MODEL_COMPUTES;
    }

    /** Where the models of this carrier that have not handed back are: their labels and stacks. */
    String whereItsModelsAre() {
        StringBuilder where = new StringBuilder();
        for (CallerHandoff session : sessions) {
            if (!session.handedBackThisExchange()) {
                where.append(session.whereTheModelIs());
            }
        }
        Thread caller = serving;
        if (where.length() == 0) {
            return "";
        }
        return "\nIts caller's thread is " + (caller == null ? "unknown" : "\"" + caller.getName() + "\"") + "." + where;
    }

    /** Whether the watchdog has yet to report the model thread that runs now (it reports each run once). */
    boolean firstReport() {
        boolean first = !reported;
        reported = true;
        return first;
    }
}
