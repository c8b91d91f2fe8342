package com.alpyperl.launcher;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Steps many sessions of one JVM with one call. The caller and the group share a buffer of 2N
 * longs for N sessions: N commands, then N statuses. The caller says per session what to do:
 * {@link #STEP} to apply the action in that session's buffer, or a seed (zero or more) to start a
 * new episode with it; a seed is read once (its command is {@code STEP} again afterwards). {@link
 * #stepAll()} hands the turn to every model, waits for all of them, and writes each session's
 * status (see {@link ModelSession#RUNNING}). It returns flags: {@link #EPISODES_ENDED} and {@link
 * #OUTPUT_WAITING}, so that a caller looks at the statuses and the output only when it must.
 *
 * <p>The models run on one of two kinds of threads:
 * <ul>
 *   <li><b>platform</b>: each model on an OS thread of its own; a step wakes every model thread
 *       and waits for each (one OS thread wake-up per model and step);</li>
 *   <li><b>virtual</b> (Java 24+): each model on a virtual thread, the group's models spread over
 *       {@code parallelism} {@link CarrierLane}s (OS threads). A step costs one hand-off per lane;
 *       on a lane the models take turns, a switch between them costing well under a microsecond,
 *       and the lanes run in parallel.</li>
 * </ul>
 * Trajectories do not depend on the kind: each model only ever sees its own seed and actions.
 */
public final class ModelSessionGroup implements AutoCloseable {
    /** Command: apply the action in the session's buffer. */
    public static final long STEP = -1;
    /** Flag of {@link #stepAll()}: some session's status is not {@link ModelSession#RUNNING}. */
    public static final int EPISODES_ENDED = 1;
    /** Flag of {@link #stepAll()}: some session has lines of output waiting for {@link ModelSession#takeOutput()}. */
    public static final int OUTPUT_WAITING = 2;

    private final ModelSession[] sessions;
    private final LongBuffer commands;
    private final LongBuffer statuses;
    /** The lanes of a group of virtual model threads; null for platform threads. */
    private final CarrierLane[] lanes;
    private final RuntimeException[] failures;
    private boolean failed;
    private boolean episodesEnded;
    private boolean closed;

    // ---- the caller's wait for the lanes -------------------------------------------------------
    private final AtomicInteger lanesRunning = new AtomicInteger();
    private volatile Thread caller;
    private volatile boolean callerParked;
    private final SpinPolicy callerSpin;
    private long steps;

    private ModelSessionGroup(ModelSession[] sessions, CarrierLane[] lanes, ByteBuffer commandBuffer) {
        if (sessions.length == 0) {
            throw new IllegalArgumentException("a session group needs at least one session");
        }
        this.sessions = sessions;
        this.lanes = lanes;
        this.failures = new RuntimeException[sessions.length];
        LongBuffer shared = commandBuffer.order(ByteOrder.nativeOrder()).asLongBuffer();
        if (shared.capacity() < 2 * sessions.length) {
            throw new IllegalArgumentException("the command buffer holds " + shared.capacity() + " longs; a group of "
                    + sessions.length + " sessions needs " + 2 * sessions.length + " (commands, then statuses)");
        }
        int n = sessions.length;
        this.commands = shared.duplicate().position(0).limit(n).slice();
        this.statuses = shared.duplicate().position(n).limit(2 * n).slice();
        int cores = Runtime.getRuntime().availableProcessors();
        // With a core for every lane and one for the caller, the caller's short spin finds the lanes done.
        this.callerSpin = new SpinPolicy(lanes == null || lanes.length < cores ? SpinPolicy.DEFAULT_SPIN_NANOS : 0);
    }

    /**
     * Opens {@code size} sessions of a model folder as one group. {@code threads} is {@code
     * "platform"}, {@code "virtual"} (refused with the reason where this JVM cannot) or {@code
     * "auto"} (virtual where available and the group has two sessions or more, else platform).
     * {@code parallelism} is the number of lanes for virtual threads (at most {@code size}); 0
     * chooses {@link #defaultParallelism}. {@code commandBuffer} holds 2N longs (commands, then
     * statuses) in native byte order. The sessions still need {@link ModelSession#configure}.
     */
    public static ModelSessionGroup open(ModelFolder folder, int size, String threads, int parallelism,
            ByteBuffer commandBuffer) {
        if (size < 1) {
            throw new IllegalArgumentException("a session group needs at least one session, not " + size);
        }
        if (parallelism < 0) {
            throw new IllegalArgumentException("parallelism must be positive (or 0 for the default), not " + parallelism);
        }
        if (!virtualThreadsWanted(threads, size)) {
            ModelSession[] sessions = new ModelSession[size];
            try {
                for (int i = 0; i < size; i++) {
                    sessions[i] = new ModelSession(folder);
                }
            } catch (RuntimeException e) {
                closeAll(sessions);
                throw e;
            }
            return new ModelSessionGroup(sessions, null, commandBuffer);
        }
        int laneCount = Math.min(size, parallelism == 0 ? defaultParallelism(size) : parallelism);
        ModelSession[] sessions = new ModelSession[size];
        CarrierLane[] lanes = new CarrierLane[laneCount];
        ModelSessionGroup group = new ModelSessionGroup(sessions, lanes, commandBuffer);
        try {
            for (int k = 0; k < laneCount; k++) {
                lanes[k] = new CarrierLane(group, "alpyperl-carrier-" + folder.getName() + "-" + (k + 1));
            }
            for (int i = 0; i < size; i++) {
                CarrierLane lane = lanes[i % laneCount];
                lane.addMember(i);
                sessions[i] = new ModelSession(folder, lane);
            }
        } catch (RuntimeException e) {
            group.close();
            throw e;
        }
        return group;
    }

    /**
     * The number of lanes a group of {@code size} virtual model threads gets by default: one, so
     * that the caller and the lane each have a core on a machine of two; more cores give more
     * lanes, one core staying free for the caller.
     */
    public static int defaultParallelism(int size) {
        int cores = Runtime.getRuntime().availableProcessors();
        return Math.max(1, Math.min(size, cores - 1));
    }

    /** Whether this JVM can run model threads as virtual threads, and if not, why ({@code null} if it can). */
    public static String virtualThreadsUnavailableReason() {
        return VirtualThreads.unavailableReason();
    }

    private static boolean virtualThreadsWanted(String threads, int size) {
        switch (String.valueOf(threads).toLowerCase(Locale.ROOT)) {
            case "platform":
                return false;
            case "virtual":
                if (!VirtualThreads.available()) {
                    throw new UnsupportedOperationException(VirtualThreads.unavailableReason());
                }
                return true;
            case "auto":
                return size >= 2 && VirtualThreads.available();
            default:
                throw new IllegalArgumentException("model threads are \"auto\", \"virtual\" or \"platform\", not \""
                        + threads + "\"");
        }
    }

    /** The session at {@code index}. */
    public ModelSession session(int index) {
        return sessions[index];
    }

    /** The number of sessions. */
    public int size() {
        return sessions.length;
    }

    /** {@code "virtual"} or {@code "platform"}: the kind of thread the models run on. */
    public String threadKind() {
        return lanes == null ? "platform" : "virtual";
    }

    /** How many models can run at the same time: the number of lanes, or of sessions on platform threads. */
    public int parallelism() {
        return lanes == null ? sessions.length : lanes.length;
    }

    /**
     * Carries out every session's command and writes the statuses. An action outside its space
     * refuses the whole step before any model runs ({@link ActionOutsideSpaceException}). If a
     * session fails, the others still finish their step first; then the failure of the
     * lowest-numbered failing session is thrown, naming that session. Returns {@link
     * #EPISODES_ENDED} if some status is not RUNNING, plus {@link #OUTPUT_WAITING} if some
     * session has lines of output waiting (their destination is {@code "caller"}).
     */
    public synchronized int stepAll() {
        if (closed) {
            throw new IllegalStateException("the environment is closed");
        }
        refuseActionsOutsideTheirSpace();
        if (failed) {
            Arrays.fill(failures, null);
            failed = false;
        }
        episodesEnded = false;
        if (lanes == null) {
            stepEachSession();
        } else {
            stepOnLanes();
        }
        if (failed) {
            for (int i = 0; i < failures.length; i++) {
                if (failures[i] != null) {
                    throw inSession(i, failures[i]);
                }
            }
        }
        int waiting = 0;
        for (ModelSession session : sessions) {
            waiting |= session.outputWaiting();
        }
        return (episodesEnded ? EPISODES_ENDED : 0) | (waiting != 0 ? OUTPUT_WAITING : 0);
    }

    /** Refuses the whole step, before any model runs, if an action to apply is not in its space. */
    private void refuseActionsOutsideTheirSpace() {
        for (int i = 0; i < sessions.length; i++) {
            if (commands.get(i) == STEP) {
                String problem = sessions[i].actionProblem();
                if (problem != null) {
                    throw new ActionOutsideSpaceException("the action of environment " + i + " is not in the action "
                            + "space " + sessions[i].configuredActionSpace() + ": " + problem);
                }
            }
        }
    }

    /** Closes every session, then ends the lanes' carrier threads. Safe to call more than once. */
    @Override
    public synchronized void close() {
        closed = true;
        closeAll(sessions);
        if (lanes != null) {
            for (CarrierLane lane : lanes) {
                if (lane != null) {
                    lane.close();
                }
            }
        }
    }

    // ---- platform threads: the caller hands over to every model, then waits for each ------------

    private void stepEachSession() {
        int begun = 0;
        while (begun < sessions.length && begin(begun, null)) {
            begun++;
        }
        for (int i = 0; i < begun; i++) {
            try {
                report(i, sessions[i].finishExchange());
            } catch (RuntimeException e) {
                recordFailure(i, e);
            }
        }
    }

    // ---- virtual threads: the caller hands over to every lane, then waits once -----------------

    private void stepOnLanes() {
        caller = Thread.currentThread();
        lanesRunning.set(lanes.length);
        long step = ++steps;
        for (CarrierLane lane : lanes) {
            lane.request(step);
        }
        long timeout = sessions[0].timeoutNanos();
        long start = System.nanoTime();
        long nextLook = start + timeout;
        long spin = callerSpin.nextSpin();
        boolean lookedForStuckModels = false;
        while (lanesRunning.get() != 0) {
            long now = System.nanoTime();
            if (now - start < spin) {
                Thread.onSpinWait();
                continue;
            }
            if (now - nextLook >= 0) {
                nextLook = abandonStuckModels(now, timeout);
                lookedForStuckModels = true;
                continue;
            }
            callerParked = true;
            if (lanesRunning.get() != 0) {
                LockSupport.parkNanos(this, Math.max(nextLook - now, 1000L));
            }
            callerParked = false;
        }
        if (!lookedForStuckModels) {
            callerSpin.waited(spin, System.nanoTime() - start);
        }
    }

    private long abandonStuckModels(long now, long timeout) {
        long nextLook = now + timeout;
        for (CarrierLane lane : lanes) {
            nextLook = Math.min(nextLook, lane.abandonStuckModels(now, timeout));
        }
        return nextLook;
    }

    // ---- called by the lanes (and by the platform path) ------------------------------------------

    /** Hands session {@code index} its command; false (with the failure recorded) if that failed. */
    boolean begin(int index, CarrierLane byLane) {
        long command = commands.get(index);
        try {
            if (command == STEP) {
                sessions[index].beginStep(byLane);
            } else if (command >= 0) {
                commands.put(index, STEP); // a seed is used once
                sessions[index].beginReset(command, byLane);
            } else {
                throw new IllegalArgumentException("command " + command + " for session " + index
                        + " is neither STEP (-1) nor a seed (>= 0)");
            }
            return true;
        } catch (RuntimeException e) {
            recordFailure(index, e);
            return false;
        }
    }

    /** Session {@code index} has handed back: writes its status, or records its failure. */
    void finish(int index) {
        try {
            report(index, sessions[index].outcome());
        } catch (RuntimeException e) {
            recordFailure(index, e);
        }
    }

    private void report(int index, int status) {
        statuses.put(index, status);
        if (status != ModelSession.RUNNING) {
            episodesEnded = true;
        }
    }

    void recordFailure(int index, RuntimeException e) {
        failures[index] = e;
        failed = true;
    }

    /** A lane has finished the current step. */
    void laneFinished() {
        if (lanesRunning.decrementAndGet() == 0 && callerParked) {
            LockSupport.unpark(caller);
        }
    }

    private static void closeAll(ModelSession[] sessions) {
        for (ModelSession session : sessions) {
            if (session != null) {
                session.close();
            }
        }
    }

    private static RuntimeException inSession(int index, RuntimeException e) {
        String where = "[environment " + index + "] ";
        if (e instanceof ModelFailure) {
            return new ModelFailure(where + e.getMessage(), e.getCause());
        }
        if (e instanceof StepTimeoutException) {
            return new StepTimeoutException(where + e.getMessage());
        }
        if (e instanceof ModelLoadException) {
            return new ModelLoadException(where + e.getMessage(), e);
        }
        if (e instanceof IllegalStateException) {
            return new IllegalStateException(where + e.getMessage(), e);
        }
        return e;
    }
}
