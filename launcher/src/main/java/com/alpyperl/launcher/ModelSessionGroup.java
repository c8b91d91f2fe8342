package com.alpyperl.launcher;

import com.alpyperl.connector.ModelException;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.runtime.ModelLoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;

/**
 * The model instances behind one Python environment, and the one class Python calls: it opens
 * them, describes the model, configures the shared buffers, sets parameters and output, steps and
 * resets every instance with one call, takes their output, renders and closes. An {@code
 * AnyLogicEnv} is a group of one.
 *
 * <p>It steps many sessions of one JVM with one call. The caller and the group share a buffer of 2N
 * longs for N sessions: N commands, then N statuses. The caller says per session what to do:
 * {@link #STEP} to apply the action in that session's buffer, a seed (zero or more) to start a
 * new episode with it, or {@link #KEEP} to leave the session as it is (a reset of some sessions
 * only); a seed or {@code KEEP} is read once (the command is {@code STEP} again afterwards). {@link
 * #stepAll()} hands the turn to every model that has something to do, waits for all of them, and
 * writes their statuses (see {@link ModelSession#RUNNING}; a kept session's status stays). It
 * returns flags: {@link #EPISODES_ENDED} and {@link #OUTPUT_WAITING}, so that a caller looks at
 * the statuses and the output only when it must.
 *
 * <p>The models run on one of three kinds of threads:
 * <ul>
 *   <li><b>caller</b> (Java 24+): each model on a virtual thread that the caller's own thread runs
 *       during {@link #stepAll()} ({@link CallerCarrier}): the models take turns on the caller's
 *       thread, a switch costing well under a microsecond and no OS thread wake-up; a model that
 *       loops forever cannot be interrupted there ({@link ModelWatchdog} reports it);</li>
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
    /** Command: leave the session as it is, neither stepping nor resetting it; its status stays. */
    public static final long KEEP = -2;
    /** Flag of {@link #stepAll()}: some session's status is not {@link ModelSession#RUNNING}. */
    public static final int EPISODES_ENDED = 1;
    /** Flag of {@link #stepAll()}: some session has lines of output waiting for {@link ModelSession#takeOutput()}. */
    public static final int OUTPUT_WAITING = 2;

    private final ModelSession[] sessions;
    private final LongBuffer commands;
    private final LongBuffer statuses;
    /** The lanes of a group of virtual model threads on carrier threads; null for the other kinds. */
    private final CarrierLane[] lanes;
    /** The carrier of a group whose models run on the caller's thread; null for the other kinds. */
    private final CallerCarrier callerCarrier;
    /** Which sessions the current step on the caller's thread or on platform threads has begun. */
    private final boolean[] begun;
    private final BooleanSupplier allBegunHandedBack = this::allBegunHandedBack;
    private final RuntimeException[] failures;
    /**
     * Serialises the caller's calls. Not a monitor: a thread that holds a monitor must not run a
     * virtual model thread (the JVM crashes when that thread yields), and callers run their models.
     */
    private final CallerLock callerLock = new CallerLock();
    private boolean failed;
    private boolean episodesEnded;
    private boolean closed;
    /** This group's handle in {@link DirectStep}, or -1 before {@link #directStepHandle()}. */
    private int directHandle = -1;

    // ---- the caller's wait for the lanes -------------------------------------------------------
    private final AtomicInteger lanesRunning = new AtomicInteger();
    private volatile Thread caller;
    private volatile boolean callerParked;
    private final SpinPolicy callerSpin;
    private long steps;

    private ModelSessionGroup(ModelSession[] sessions, CarrierLane[] lanes, CallerCarrier callerCarrier,
            ByteBuffer commandBuffer) {
        if (sessions.length == 0) {
            throw new IllegalArgumentException("a session group needs at least one session");
        }
        this.sessions = sessions;
        this.lanes = lanes;
        this.callerCarrier = callerCarrier;
        this.failures = new RuntimeException[sessions.length];
        this.begun = new boolean[sessions.length];
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
     * "caller"} or {@code "virtual"} (each refused with the reason where this JVM cannot), {@code
     * "platform"} or {@code "auto"}: where the JVM has virtual threads, {@code "caller"} when the
     * parallelism is 1 and {@code "virtual"} when it is more, else {@code "platform"}. {@code
     * parallelism} is the number of lanes for virtual threads (at most {@code size}); 0 chooses
     * {@link #defaultParallelism}. {@code commandBuffer} holds 2N longs (commands, then statuses)
     * in native byte order. The sessions still need {@link ModelSession#configure}.
     */
    public static ModelSessionGroup open(ModelFolder folder, int size, String threads, int parallelism,
            ByteBuffer commandBuffer) {
        if (size < 1) {
            throw new IllegalArgumentException("a session group needs at least one session, not " + size);
        }
        if (parallelism < 0) {
            throw new IllegalArgumentException("parallelism must be positive (or 0 for the default), not " + parallelism);
        }
        int laneCount = Math.min(size, parallelism == 0 ? defaultParallelism(size) : parallelism);
        String kind = threadKind(threads, laneCount);
        ModelSession[] sessions = new ModelSession[size];
        if (!kind.equals("virtual")) {
            CallerCarrier carrier = kind.equals("caller") ? new CallerCarrier("caller of " + folder.getName()) : null;
            ModelSessionGroup group = new ModelSessionGroup(sessions, null, carrier, commandBuffer);
            try {
                for (int i = 0; i < size; i++) {
                    sessions[i] = carrier == null ? new ModelSession(folder)
                            : new ModelSession(folder, new CallerHandoff(folder.getName(), carrier));
                }
            } catch (RuntimeException e) {
                group.close();
                throw e;
            }
            if (carrier != null) {
                ModelWatchdog.watch(carrier);
            }
            CtrlCHandler.watch(group);
            return group;
        }
        CarrierLane[] lanes = new CarrierLane[laneCount];
        ModelSessionGroup group = new ModelSessionGroup(sessions, lanes, null, commandBuffer);
        try {
            for (int k = 0; k < laneCount; k++) {
                lanes[k] = new CarrierLane(group.new LaneSteps(), "alpyperl-carrier-" + folder.getName() + "-" + (k + 1));
            }
            for (int i = 0; i < size; i++) {
                CarrierLane lane = lanes[i % laneCount];
                LaneHandoff handoff = new LaneHandoff(folder.getName(), lane);
                lane.addMember(i, handoff);
                sessions[i] = new ModelSession(folder, handoff);
            }
        } catch (RuntimeException e) {
            group.close();
            throw e;
        }
        CtrlCHandler.watch(group);
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

    /** The kind of model thread {@code threads} asks for, with {@code lanes} lanes for virtual threads. */
    private static String threadKind(String threads, int lanes) {
        String kind = String.valueOf(threads).toLowerCase(Locale.ROOT);
        switch (kind) {
            case "platform":
                return kind;
            case "caller":
            case "virtual":
                if (!VirtualThreads.available()) {
                    throw new UnsupportedOperationException(VirtualThreads.unavailableReason());
                }
                return kind;
            case "auto":
                return !VirtualThreads.available() ? "platform" : lanes == 1 ? "caller" : "virtual";
            default:
                throw new IllegalArgumentException("model threads are \"auto\", \"caller\", \"virtual\" or "
                        + "\"platform\", not \"" + threads + "\"");
        }
    }

    /** The thread inside a call of this group that holds its lock ({@link #stepAll()}, {@link #close()}), or null. */
    Thread steppingThread() {
        return callerLock.holder();
    }

    /** The carrier of a group whose models run on the caller's thread, else null. */
    CallerCarrier callerCarrier() {
        return callerCarrier;
    }

    /** The session at {@code index} (tests). */
    ModelSession session(int index) {
        return sessions[index];
    }

    /**
     * What the model says about itself, as JSON (see {@link ModelSession#describeModel}); the first
     * instance creates the model to ask it.
     */
    public String describeModel(double timeoutSeconds) {
        return sessions[0].describeModel(timeoutSeconds);
    }

    /** Whether the model draws itself (after {@link #describeModel}). */
    public boolean modelDraws() {
        return sessions[0].modelDraws();
    }

    /**
     * Sets every instance's spaces (JSON), the step timeout and its row of the shared buffer:
     * {@code rows} holds one row of A + O + 1 doubles per instance, one after the other, in native
     * byte order (see {@link ModelSession#configure}).
     */
    public void configure(String observationSpaceJson, String actionSpaceJson, double stepTimeoutSeconds,
            ByteBuffer rows) {
        int rowBytes = rows.capacity() / sessions.length;
        boolean masked = sessions[0].usesActionMask(); // the instance that described the model
        for (int i = 0; i < sessions.length; i++) {
            ByteBuffer row = rows.duplicate();
            row.position(i * rowBytes).limit((i + 1) * rowBytes);
            sessions[i].configure(observationSpaceJson, actionSpaceJson, stepTimeoutSeconds, row.slice(), masked);
        }
    }

    /** Sets every instance's model parameters from the next reset on (see {@link ModelSession#setParameters}). */
    public void setParameters(String parametersJson) {
        for (ModelSession session : sessions) {
            session.setParameters(parametersJson);
        }
    }

    /** The label of instance {@code index} ({@code <model name>#<n>}), as its output shows it. */
    public String label(int index) {
        return sessions[index].getLabel();
    }

    /** The name of the thread that runs instance {@code index}'s model now (diagnostics, tests). */
    public String modelThreadName(int index) {
        return sessions[index].getModelThreadName();
    }

    /** Whether the thread of instance {@code index}'s model is alive (diagnostics, tests). */
    public boolean isModelThreadAlive(int index) {
        return sessions[index].isModelThreadAlive();
    }

    /** Where what instance {@code index} prints goes (see {@link ModelSession#setOutput}). */
    public void setOutput(int index, String destination, String path) {
        sessions[index].setOutput(destination, path);
    }

    /**
     * The lines all instances printed since the last call (destination {@code "caller"}), each as
     * {@code <index> ' ' <'O' or 'E'> <text> '\n'}; empty if there are none. One call for all
     * instances, so that output costs no crossing per instance.
     */
    public String takeOutput() {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < sessions.length; i++) {
            String text = sessions[i].takeOutput();
            int start = 0;
            while (start < text.length()) {
                int end = text.indexOf('\n', start) + 1;
                if (end == 0) {
                    end = text.length();
                }
                lines.append(i).append(' ').append(text, start, end);
                start = end;
            }
        }
        return lines.toString();
    }

    /** Draws instance {@code index}'s model into {@code target} (see {@link ModelSession#render}). */
    public boolean render(int index, ByteBuffer target, int width, int height) {
        return sessions[index].render(target, width, height);
    }

    /** The number of sessions. */
    public int size() {
        return sessions.length;
    }

    /** {@code "caller"}, {@code "virtual"} or {@code "platform"}: the kind of thread the models run on. */
    public String threadKind() {
        return callerCarrier != null ? "caller" : lanes != null ? "virtual" : "platform";
    }

    /**
     * How many models can run at the same time: 1 on the caller's thread, the number of lanes, or
     * of sessions on platform threads.
     */
    public int parallelism() {
        return callerCarrier != null ? 1 : lanes != null ? lanes.length : sessions.length;
    }

    /**
     * Carries out every session's command and writes the statuses. An action outside its space
     * refuses the whole step before any model runs ({@link ActionOutsideSpaceException}). If a
     * session fails, the others still finish their step first; then the failure of the
     * lowest-numbered failing session is thrown, naming that session. Returns {@link
     * #EPISODES_ENDED} if some status is not RUNNING, plus {@link #OUTPUT_WAITING} if some
     * session has lines of output waiting (their destination is {@code "caller"}).
     */
    public int stepAll() {
        callerLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the environment is closed");
            }
            // A Ctrl-C between steps (JPype interrupts the thread) must not end this step's wait.
            Thread.interrupted();
            long ctrlCBefore = CtrlCHandler.presses();
            refuseActionsOutsideTheirSpace();
            if (failed) {
                Arrays.fill(failures, null);
                failed = false;
            }
            episodesEnded = false;
            if (callerCarrier != null) {
                stepOnCaller(ctrlCBefore);
            } else if (lanes == null) {
                stepEachSession();
            } else {
                stepOnLanes(ctrlCBefore);
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
        } finally {
            callerLock.unlock();
        }
    }

    /** Refuses the whole step, before any model runs, if an action to apply is not in its space. */
    private void refuseActionsOutsideTheirSpace() {
        for (int i = 0; i < sessions.length; i++) {
            if (commands.get(i) == STEP) {
                String problem = sessions[i].actionProblem();
                if (problem != null) {
                    String whose = sessions.length == 1 ? "the action" : "the action of environment " + i;
                    throw new ActionOutsideSpaceException(whose + " is not in the action space "
                            + sessions[i].configuredActionSpace() + ": " + problem);
                }
                problem = sessions[i].agentActionProblem();
                if (problem != null) {
                    throw new ActionOutsideSpaceException(sessions.length == 1 ? problem : "[environment " + i + "] " + problem);
                }
                problem = sessions[i].maskProblem();
                if (problem != null) {
                    String whose = sessions.length == 1 ? "the action" : "the action of environment " + i;
                    throw new ActionOutsideSpaceException(whose + " is masked: " + problem);
                }
            }
        }
    }

    /**
     * The handle with which alpyperl's native extension steps this group ({@link
     * DirectStep#stepAll(int)}), given on the first call; -1 once the group is closed.
     */
    public int directStepHandle() {
        callerLock.lock();
        try {
            if (!closed && directHandle == -1) {
                directHandle = DirectStep.register(this);
            }
            return closed ? -1 : directHandle;
        } finally {
            callerLock.unlock();
        }
    }

    /** Closes every session, then ends the lanes' carrier threads. Safe to call more than once. */
    @Override
    public void close() {
        callerLock.lock();
        try {
            closed = true;
            if (directHandle != -1) {
                DirectStep.release(directHandle);
            }
            CtrlCHandler.forget(this);
            closeAll(sessions);
            if (callerCarrier != null) {
                ModelWatchdog.forget(callerCarrier);
            }
            if (lanes != null) {
                for (CarrierLane lane : lanes) {
                    if (lane != null) {
                        lane.close();
                    }
                }
            }
        } finally {
            callerLock.unlock();
        }
    }

    // ---- platform threads: the caller hands over to every model, then waits for each ------------

    private void stepEachSession() {
        beginEach();
        long deadline = System.nanoTime() + sessions[0].handoff().timeoutNanos; // one timeout bounds the whole step
        boolean interrupted = false;
        for (int i = 0; i < sessions.length; i++) {
            if (!begun[i]) {
                continue;
            }
            Handoff handoff = sessions[i].handoff();
            if (interrupted && !handoff.handedBackThisExchange()) {
                recordFailure(i, handoff.abandonAfterInterrupt()); // Ctrl-C ended the wait for an earlier model
                continue;
            }
            try {
                report(i, sessions[i].finishExchangeBy(deadline));
            } catch (StepInterruptedException e) {
                interrupted = true;
                recordFailure(i, e);
            } catch (RuntimeException e) {
                recordFailure(i, e);
            }
        }
    }

    // ---- the caller's thread: the caller hands over to every model, then runs them ---------------

    private void stepOnCaller(long ctrlCBefore) {
        beginEach();
        boolean interrupted = false;
        try {
            callerCarrier.runUntil(allBegunHandedBack, sessions[0].handoff().timeoutNanos, ctrlCBefore);
        } catch (StepInterruptedException e) {
            interrupted = true; // Ctrl-C: give up on the models still running, as after a timeout
        }
        for (int i = 0; i < sessions.length; i++) {
            if (!begun[i]) {
                continue;
            }
            Handoff handoff = sessions[i].handoff();
            if (handoff.handedBackThisExchange()) {
                finish(i);
            } else if (interrupted) {
                recordFailure(i, handoff.abandonAfterInterrupt());
            } else {
                RuntimeException timeout = handoff.abandonIfStuck(handoff.timeoutNanos);
                if (timeout != null) {
                    recordFailure(i, timeout);
                } else {
                    finish(i);
                }
            }
        }
    }

    /**
     * Hands each session its command, in order, from the calling thread; after a session failed
     * to begin, the later ones are not begun.
     */
    private void beginEach() {
        boolean failedToBegin = false;
        for (int i = 0; i < sessions.length; i++) {
            begun[i] = !failedToBegin && begin(i, null);
            failedToBegin |= !begun[i] && failures[i] != null;
        }
    }

    private boolean allBegunHandedBack() {
        for (int i = 0; i < sessions.length; i++) {
            if (begun[i] && !sessions[i].handoff().handedBackThisExchange()) {
                return false;
            }
        }
        return true;
    }

    // ---- virtual threads: the caller hands over to every lane, then waits once -----------------

    private void stepOnLanes(long ctrlCBefore) {
        caller = Thread.currentThread();
        lanesRunning.set(lanes.length);
        long step = ++steps;
        for (CarrierLane lane : lanes) {
            lane.request(step);
        }
        long timeout = sessions[0].handoff().timeoutNanos;
        long start = System.nanoTime();
        long nextLook = start + timeout;
        long spin = callerSpin.nextSpin();
        boolean lookedForStuckModels = false;
        boolean interrupted = false;
        while (lanesRunning.get() != 0) {
            long now = System.nanoTime();
            if (now - start < spin) {
                Thread.onSpinWait();
                continue;
            }
            if (!interrupted && (Thread.interrupted() || CtrlCHandler.pressedSince(ctrlCBefore))) {
                interrupted = true; // Ctrl-C: give up on every model that has not handed back, as after a timeout
                lookedForStuckModels = true;
                for (CarrierLane lane : lanes) {
                    lane.abandonOnCtrlC();
                }
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

    // ---- each session's part of a step (on the caller's thread, or on a lane's carrier) -----------

    /**
     * Hands session {@code index} its command; false if the command is {@link #KEEP} (nothing to do)
     * or handing it over failed (the failure recorded).
     */
    private boolean begin(int index, CarrierLane byLane) {
        long command = commands.get(index);
        try {
            if (command == STEP) {
                sessions[index].beginStep(byLane);
            } else if (command == KEEP) {
                commands.put(index, STEP); // read once, as a seed is
                return false;
            } else if (command >= 0) {
                commands.put(index, STEP); // a seed is used once
                sessions[index].beginReset(command, byLane);
            } else {
                throw new IllegalArgumentException("command " + command + " for session " + index
                        + " is neither STEP (-1), KEEP (-2) nor a seed (>= 0)");
            }
            return true;
        } catch (RuntimeException e) {
            recordFailure(index, e);
            return false;
        }
    }

    /** Session {@code index} has handed back: writes its status, or records its failure. */
    private void finish(int index) {
        try {
            report(index, sessions[index].handoff().outcome());
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

    private void recordFailure(int index, RuntimeException e) {
        failures[index] = e;
        failed = true;
    }

    /** What the lanes do to this group's step, on their carrier threads. */
    private final class LaneSteps implements CarrierLane.Steps {
        @Override
        public boolean begin(int index, CarrierLane lane) {
            return ModelSessionGroup.this.begin(index, lane);
        }

        @Override
        public void finish(int index) {
            ModelSessionGroup.this.finish(index);
        }

        @Override
        public void recordFailure(int index, RuntimeException failure) {
            ModelSessionGroup.this.recordFailure(index, failure);
        }

        @Override
        public void laneFinished() {
            if (lanesRunning.decrementAndGet() == 0 && callerParked) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** The caller lock, which tells which thread holds it (for Ctrl-C, {@link CtrlCHandler}). */
    private static final class CallerLock extends ReentrantLock {
        private static final long serialVersionUID = 1L;

        Thread holder() {
            return getOwner();
        }
    }

    private static void closeAll(ModelSession[] sessions) {
        for (ModelSession session : sessions) {
            if (session != null) {
                session.close();
            }
        }
    }

    private RuntimeException inSession(int index, RuntimeException e) {
        if (sessions.length == 1) {
            return e;
        }
        String where = "[environment " + index + "] ";
        if (e instanceof ModelException) {
            return new ModelException(where + e.getMessage(), e.getCause());
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
