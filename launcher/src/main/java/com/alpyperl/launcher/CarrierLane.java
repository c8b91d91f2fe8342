package com.alpyperl.launcher;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One OS thread, the carrier, that runs the virtual model threads of some sessions of a {@link
 * ModelSessionGroup} (it is their scheduler) and carries out the group's steps for them.
 *
 * <p>A group step costs the caller one hand-off per lane instead of one per session: the caller
 * asks each lane for the step ({@link #request}), the carrier hands the turn to each of its
 * sessions, runs their model threads one after the other as each reaches its next decision (a
 * continuation switch, no OS thread wake-up), writes their statuses and tells the group when all
 * of its sessions are done. The models of one lane take turns; different lanes run in parallel.
 *
 * <p>A model that hangs may hold the carrier forever (an endless loop) or never hand back (it
 * waits for something that never comes). The group's caller notices when its step timeout runs
 * out ({@link #abandonStuckModels}): the stuck sessions are given up on, and a carrier held by
 * one is replaced by a new carrier thread, so the lane's other sessions go on.
 */
final class CarrierLane implements Executor {
    /** What a lane needs of the group whose steps it carries out; sessions are named by their index in the group. */
    interface Steps {
        /** Hands session {@code index} its command for the step; false if it has none (KEEP) or that failed. */
        boolean begin(int index, CarrierLane lane);

        /** Session {@code index} has handed back: its status is to be written, or its failure recorded. */
        void finish(int index);

        /** Session {@code index} was given up on with {@code failure}. */
        void recordFailure(int index, RuntimeException failure);

        /** The lane has finished the current step. */
        void laneFinished();
    }

    private final Steps group;
    private final String name;
    private final List<Integer> memberIndexes = new ArrayList<>();
    private final List<LaneHandoff> memberHandoffs = new ArrayList<>();
    private int[] members = new int[0];
    private LaneHandoff[] handoffs = new LaneHandoff[0];
    private boolean[] started = new boolean[0];
    private boolean[] abandoned = new boolean[0];
    /** Model threads to run, scheduled by other threads (a model thread's wake-up from a sleep, say). */
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Model threads to run, scheduled by the carrier itself when it hands the turn over: no atomics needed. */
    private final ArrayDeque<Runnable> ownTasks = new ArrayDeque<>();
    /** How an idle carrier waits for its next task or step. */
    private final SpinPolicy idleSpin = new SpinPolicy(SpinPolicy.DEFAULT_SPIN_NANOS);

    // ---- the carrier thread ------------------------------------------------------------------
    /** The thread that serves this lane now; a replaced (or closed) carrier stops serving. */
    private volatile Thread carrier;
    private volatile boolean carrierParked;
    /**
     * Twice the number of tasks run, plus one while a task runs (written by the carrier with
     * release stores, which cost nothing on the carrier; the caller reads it only after a timeout).
     */
    private final AtomicLong taskCounter = new AtomicLong();
    private int carriersStarted;

    // ---- the group step: asked for by the group's caller, carried out by the carrier ---------
    private volatile long requestedStep;
    private volatile long servedStep;
    private volatile boolean stepping;
    /** Sessions of the current step that have not handed back (or been given up on) yet. */
    private final AtomicInteger pending = new AtomicInteger();
    /** The session whose model thread resumed last on this carrier (for a held carrier's diagnosis). */
    private final AtomicReference<LaneHandoff> lastResumed = new AtomicReference<>();
    /** The task counter when the caller first saw this lane's carrier held with no session to blame, or -1. */
    private long heldAtTaskCount = -1;
    /** When the caller first saw that (System.nanoTime). */
    private long heldSince;

    CarrierLane(Steps group, String name) {
        this.group = group;
        this.name = name;
        startCarrier();
    }

    /** Adds the session at {@code index} of the group, with its hand-off, to this lane (before the first step). */
    void addMember(int index, LaneHandoff handoff) {
        memberIndexes.add(index);
        memberHandoffs.add(handoff);
        members = memberIndexes.stream().mapToInt(Integer::intValue).toArray();
        handoffs = memberHandoffs.toArray(new LaneHandoff[0]);
        started = new boolean[members.length];
        abandoned = new boolean[members.length];
    }

    /** The name of the current carrier thread (diagnostics). */
    String carrierName() {
        Thread current = carrier;
        return current == null ? name + " (closed)" : current.getName();
    }

    // ---- the scheduler of the model threads ---------------------------------------------------

    /** Schedules a virtual model thread's next run (called by the JDK when one is started or unparked). */
    @Override
    public void execute(Runnable task) {
        if (Thread.currentThread() == carrier) { // the carrier itself, handing over: no model thread is mounted
            ownTasks.add(task);
            return;
        }
        tasks.add(task);
        if (carrierParked) {
            LockSupport.unpark(carrier);
        }
    }

    /** The model thread of {@code session} resumed on this carrier. */
    void resumed(LaneHandoff session) {
        lastResumed.lazySet(session);
    }

    // ---- the group step ------------------------------------------------------------------------

    /** Asks the carrier to carry out group step number {@code step} for this lane's sessions. */
    void request(long step) {
        requestedStep = step;
        if (carrierParked) {
            LockSupport.unpark(carrier);
        }
    }

    /** A session of the current step handed the turn back (called on the model thread, on this carrier). */
    void handedBack() {
        pending.decrementAndGet();
    }

    private boolean busy() {
        return stepping || requestedStep != servedStep;
    }

    /** Carrier: hands the turn to every session of the lane (each command as the group says). */
    private void beginStep() {
        servedStep = requestedStep;
        int begun = 0;
        for (int m = 0; m < members.length; m++) {
            abandoned[m] = false;
            started[m] = group.begin(members[m], this);
            if (started[m]) {
                begun++;
            }
        }
        pending.set(begun);
        stepping = true;
    }

    /** Carrier: every session handed back or was given up on: collect the statuses, tell the group. */
    private void finishStep() {
        for (int m = 0; m < members.length; m++) {
            if (started[m] && !abandoned[m]) {
                group.finish(members[m]);
            }
        }
        stepping = false;
        group.laneFinished();
    }

    /**
     * Called by the group's caller when its step timeout ran out and this lane has not finished:
     * gives up on each session whose model has run longer than {@code timeoutNanos} since it
     * resumed without handing back (recording its timeout for the group), and replaces a carrier
     * that such a model holds. A carrier held by the same task for {@code timeoutNanos} although
     * the model that resumed last handed back (a model thread that cannot unmount: "pinned") is
     * given up on too. Returns when the caller should look again at the latest, in
     * System.nanoTime() terms.
     */
    long abandonStuckModels(long now, long timeoutNanos) {
        long nextLook = now + timeoutNanos;
        if (!busy()) {
            return nextLook;
        }
        long taskCount = taskCounter.get();
        boolean held = (taskCount & 1) != 0;
        boolean gaveUp = false;
        for (int m = 0; m < members.length; m++) {
            if (!started[m] || abandoned[m]) {
                continue;
            }
            LaneHandoff session = handoffs[m];
            long resumedAt = session.exchangeStartedAt();
            if (resumedAt == LaneHandoff.NOT_RESUMED) {
                continue; // waiting for its turn on this carrier
            }
            if (now - resumedAt < timeoutNanos) {
                nextLook = Math.min(nextLook, resumedAt + timeoutNanos);
                continue;
            }
            RuntimeException timeout = session.abandonIfStuck(timeoutNanos);
            if (timeout != null) {
                abandoned[m] = true;
                gaveUp = true;
                group.recordFailure(members[m], timeout);
                pending.decrementAndGet();
            }
        }
        LaneHandoff pinning = lastResumed.get();
        if (held && !gaveUp && pinning != null && pinning.handedBackThisExchange()) {
            if (heldAtTaskCount != taskCount) {
                heldAtTaskCount = taskCount;
                heldSince = now;
            } else if (now - heldSince >= timeoutNanos) {
                giveUpPinnedModel(pinning);
                gaveUp = true;
            }
            nextLook = Math.min(nextLook, heldSince + timeoutNanos);
        } else {
            heldAtTaskCount = -1;
        }
        if (gaveUp && held) {
            startCarrier(); // the old carrier is held by a stuck model: a new one serves the lane
        } else if (carrierParked) {
            LockSupport.unpark(carrier);
        }
        return nextLook;
    }

    /**
     * Called by the group's caller after Ctrl-C: gives up at once on every session of the current
     * step that has not handed back (recording {@link StepInterruptedException} for the group),
     * whether its model waits, computes or has yet to resume, and replaces a carrier that a model
     * holds, so that the lane finishes its step now.
     */
    void abandonOnCtrlC() {
        if (!busy()) {
            return;
        }
        boolean held = (taskCounter.get() & 1) != 0;
        for (int m = 0; m < members.length; m++) {
            if (!started[m] || abandoned[m]) {
                continue;
            }
            StepInterruptedException interrupted = handoffs[m].abandonOnCtrlC();
            if (interrupted != null) {
                abandoned[m] = true;
                group.recordFailure(members[m], interrupted);
                pending.decrementAndGet();
            }
        }
        heldAtTaskCount = -1;
        if (held) {
            startCarrier(); // the old carrier may be held by a model that computes: a new one serves the lane
        } else if (carrierParked) {
            LockSupport.unpark(carrier);
        }
    }

    /** The carrier stayed held by {@code pinning}, which handed back: gives up on its model thread. */
    private void giveUpPinnedModel(LaneHandoff pinning) {
        for (int m = 0; m < members.length; m++) {
            LaneHandoff session = handoffs[m];
            if (started[m] && !abandoned[m] && session == pinning) {
                abandoned[m] = true;
                group.recordFailure(members[m], session.abandonPinned(carrierName()));
                if (!session.handedBackThisExchange()) {
                    pending.decrementAndGet();
                }
            }
        }
        heldAtTaskCount = -1;
    }

    // ---- the carrier thread ------------------------------------------------------------------

    private void startCarrier() {
        carriersStarted++;
        Thread next = new Thread(this::serve, name + (carriersStarted > 1 ? "." + carriersStarted : ""));
        next.setDaemon(true);
        Thread previous = carrier;
        carrier = next;
        next.start();
        if (previous != null) {
            LockSupport.unpark(previous); // if it only waits, it sees that it was replaced and ends
        }
    }

    private void serve() {
        Thread self = Thread.currentThread();
        long tasksCounted = (taskCounter.get() | 1) + 1; // even; a replaced carrier may have left it odd
        while (carrier == self) {
            Runnable task = ownTasks.poll();
            if (task == null) {
                task = tasks.poll();
            }
            if (task != null) {
                taskCounter.lazySet(++tasksCounted); // odd: inside a task
                try {
                    task.run();
                } finally {
                    if (carrier == self) {
                        taskCounter.lazySet(++tasksCounted);
                    }
                }
            } else if (stepping) {
                if (pending.get() <= 0) {
                    finishStep();
                } else {
                    idle(self);
                }
            } else if (requestedStep != servedStep) {
                beginStep();
            } else {
                idle(self);
            }
        }
    }

    private boolean hasWork(Thread self) {
        return carrier != self || !ownTasks.isEmpty() || !tasks.isEmpty()
                || (stepping ? pending.get() <= 0 : requestedStep != servedStep);
    }

    /** Waits for work: spins while spinning pays off, else parks. */
    private void idle(Thread self) {
        long start = System.nanoTime();
        long spin = idleSpin.nextSpin();
        while (!hasWork(self)) {
            if (System.nanoTime() - start < spin) {
                Thread.onSpinWait();
                continue;
            }
            carrierParked = true;
            if (!hasWork(self)) {
                LockSupport.park(this);
            }
            carrierParked = false;
        }
        idleSpin.waited(spin, System.nanoTime() - start);
    }

    /** Ends the carrier thread (after the lane's sessions are closed). */
    void close() {
        Thread current = carrier;
        carrier = null;
        if (current != null) {
            LockSupport.unpark(current);
        }
    }
}
