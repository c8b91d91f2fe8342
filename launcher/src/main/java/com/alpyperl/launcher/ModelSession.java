package com.alpyperl.launcher;

import com.alpyperl.connector.ConnectorHost;
import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.EpisodeAbandoned;
import com.alpyperl.connector.Json;
import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.RLModel;
import com.alpyperl.connector.Space;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * One model instance driven step by step by a caller (Python through JPype). The model runs on
 * its own thread; caller and model thread hand control to each other like coroutines, so exactly
 * one of them runs at a time.
 *
 * <p>Data travels through one buffer of doubles shared with the caller, laid out as
 * {@code [action (A values) | observation (O values) | reward]}. A step is one call: the caller
 * writes the action, calls {@link #step()}, and reads observation and reward from the buffer;
 * the returned status says whether the episode goes on ({@link #RUNNING}), has terminated or has
 * been truncated.
 *
 * <p>Life cycle: {@link #describeModel()} (spaces the model defines, its parameters), then
 * {@link #configure}, then {@link #reset(long)} and {@link #step()} as often as wanted, then
 * {@link #close()}.
 *
 * <p>The model thread is a platform thread of its own; or a virtual thread that the caller's own
 * thread runs while it waits for the model ({@link CallerCarrier}: a step is then a continuation
 * switch, no second OS thread takes part); or, in a {@link ModelSessionGroup} that asks for it, a
 * virtual thread run by a {@link CarrierLane} together with other sessions' models.
 *
 * <p>What the model thread prints goes to the console unchanged unless {@link #setOutput} sends it
 * elsewhere (see {@link InstanceOutput}); with the destination {@code "caller"}, {@link #reset} and
 * {@link #step} add {@link #OUTPUT_WAITING} to their status while lines wait for {@link #takeOutput()}.
 */
public final class ModelSession extends ConnectorHost implements AutoCloseable {
    /** Status: the model waits at a decision point for the next action. */
    public static final int RUNNING = 0;
    /** Status: the model has finished (terminal state). */
    public static final int TERMINATED = 1;
    /** Status: the episode stopped without the model having finished (time limit, end of run). */
    public static final int TRUNCATED = 2;
    private static final int FAILED = 3;
    /**
     * Added to the status that {@link #reset} and {@link #step} return when lines the model printed
     * wait for {@link #takeOutput()} (destination {@code "caller"} only). A step without output
     * returns the plain status, so checking costs the caller nothing then.
     */
    public static final int OUTPUT_WAITING = 4;

    private static final int CALLER = 0;
    private static final int MODEL = 1;

    private static final int PROBE = 1;
    private static final int RUN_EPISODE = 2;
    private static final int STEP = 3;
    private static final int CLOSE = 4;

    /** {@link #exchangeStartedAt()} while the model has not resumed for the current exchange. */
    static final long NOT_RESUMED = Long.MIN_VALUE;

    private static final AtomicInteger INSTANCES = new AtomicInteger();
    /** The model threads of all sessions that run now, platform and virtual ones alike. */
    private static final Set<Thread> LIVE_MODEL_THREADS = ConcurrentHashMap.newKeySet();
    /** The model worker whose thread is the current thread, on model threads. */
    private static final ThreadLocal<ModelWorker> CURRENT_WORKER = new ThreadLocal<>();

    private final ModelFolder folder;
    private final String label;
    private final InstanceOutput output;
    private final Object handoffLock = new Object();
    /**
     * Serialises the caller's calls. Not a monitor: a thread that holds a monitor must not run a
     * virtual model thread (the JVM crashes when that thread yields), and callers run their models.
     */
    private final ReentrantLock callerLock = new ReentrantLock();

    // ---- the hand-off: whose turn it is, and who is parked waiting for it --------------------
    private volatile int turn = CALLER;
    private volatile boolean callerParked;
    private volatile boolean modelParked;
    private volatile Thread caller;
    /** What runs the model now, and its thread (replaced after a timeout). */
    private ModelWorker worker;
    /** The lane whose carrier runs this session's virtual model thread, or null. */
    private final CarrierLane lane;
    /** The carrier that runs this session's virtual model thread on the caller's thread, or null. */
    private final CallerCarrier callerCarrier;
    /**
     * The {@link CallerCarrier#taskCount()} of the run in which the model thread began to wait for
     * its turn, or -1 while it does not wait; written with release stores, read by the watchdog.
     */
    private final AtomicLong parkedInRun = new AtomicLong(-1);
    /** {@link #handedBackThisExchange}, allocated once for the caller's wait. */
    private final BooleanSupplier handedBack = this::handedBackThisExchange;
    /** The lane carrying out the current exchange for a group step (it is told of the hand-back), or null. */
    private CarrierLane exchangeLane;
    /**
     * When the virtual model thread resumed for the current exchange (System.nanoTime), or
     * NOT_RESUMED; written with release stores (cheap), read only by a group whose wait ran out.
     */
    private final AtomicLong exchangeStartedAt = new AtomicLong(NOT_RESUMED);
    private final SpinPolicy callerSpin = new SpinPolicy(SpinPolicy.DEFAULT_SPIN_NANOS);
    private final SpinPolicy modelSpin = new SpinPolicy(SpinPolicy.DEFAULT_SPIN_NANOS);
    private String pendingGoal = "";

    // ---- what the caller asks of the model thread (published by the volatile write of turn) --
    private int command;
    private long episodeSeed;
    private Map<String, Object> parameters = Collections.emptyMap();
    private boolean abandonEpisode;

    // ---- what the model thread reports back (published by the volatile write of turn) --------
    private int status = TRUNCATED;
    private Throwable failure;
    private boolean modelInDecision;
    private String probeResult;
    /** Whether the instance created by describeModel() implements {@link Drawable}. */
    private boolean modelDraws;

    // ---- set up by configure() ----------------------------------------------------------------
    private Space observationSpace;
    private Space actionSpace;
    private DoubleBuffer buffer;
    private int actionSize;
    private int rewardIndex;
    private long timeoutNanos = 10_000_000_000L;

    private boolean closed;
    /** The caller gave up on the model thread (timeout); the next reset starts a new one. */
    private boolean modelThreadStuck;
    private int threadsStarted;
    private final ModelRenderer renderer;

    /** Opens a session on a model folder and starts its model thread, a platform thread of its own. */
    public ModelSession(ModelFolder folder) {
        this(folder, null, null);
    }

    /**
     * Opens a session whose model thread is a virtual thread on {@code lane}, or one that {@code
     * callerCarrier} runs on the caller's thread, or (both null) a platform thread.
     */
    ModelSession(ModelFolder folder, CarrierLane lane, CallerCarrier callerCarrier) {
        this.folder = folder;
        this.lane = lane;
        this.callerCarrier = callerCarrier;
        this.label = folder.getName() + "#" + INSTANCES.incrementAndGet();
        this.output = new InstanceOutput(label);
        this.renderer = new ModelRenderer(folder.getName());
        if (callerCarrier != null) {
            callerCarrier.add(this);
        }
        startModelThread();
    }

    /**
     * What the model says about itself, as JSON: {@code observation_space} and {@code
     * action_space} (null where the model leaves them to Python) and {@code parameters} (names,
     * or null if unknown before a run). Creates one instance of the model to ask it.
     */
    public String describeModel(double timeoutSeconds) {
        callerLock.lock();
        try {
            ensureUsable();
            command = PROBE;
            handOver("create the model to read its spaces", null);
            awaitOutcome(nanos(timeoutSeconds));
            return probeResult;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Sets the spaces (JSON, see {@link Space#toJson()}), the step timeout and the shared buffer
     * (a direct buffer over the caller's memory of at least A + O + 1 doubles, native byte order).
     */
    public void configure(String observationSpaceJson, String actionSpaceJson,
            double stepTimeoutSeconds, ByteBuffer sharedBuffer) {
        callerLock.lock();
        try {
            ensureUsable();
            if (modelInDecision) {
                throw new IllegalStateException("configure() is only allowed between episodes");
            }
            Space observation = Space.fromJson(observationSpaceJson);
            Space action = Space.fromJson(actionSpaceJson);
            int needed = action.flatSize() + observation.flatSize() + 1;
            DoubleBuffer doubles = sharedBuffer.order(ByteOrder.nativeOrder()).asDoubleBuffer();
            if (doubles.capacity() < needed) {
                throw new IllegalArgumentException("the shared buffer holds " + doubles.capacity() + " doubles; "
                        + needed + " are needed (action " + action.flatSize() + ", observation "
                        + observation.flatSize() + ", reward 1)");
            }
            if (!(stepTimeoutSeconds > 0)) {
                throw new IllegalArgumentException("the step timeout must be positive, got " + stepTimeoutSeconds);
            }
            this.observationSpace = observation;
            this.actionSpace = action;
            this.timeoutNanos = nanos(stepTimeoutSeconds);
            this.buffer = doubles;
            this.actionSize = action.flatSize();
            this.rewardIndex = actionSize + observation.flatSize();
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Sets the model parameters (a JSON object of name to value) applied from the next reset on;
     * the others keep their defaults. Unknown names are refused with the list of known ones, and
     * values that do not fit their parameter's type are refused, where the model kind knows them
     * before a run.
     */
    public void setParameters(String parametersJson) {
        callerLock.lock();
        try {
            ensureUsable();
            Map<String, Object> values = parseParameters(parametersJson);
            folder.runtime().checkParameters(values);
            parameters = values;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Starts a new episode with this seed, abandoning the current one if it is still running, and
     * runs the model to its first decision point. Returns the status (normally {@link #RUNNING});
     * the first observation is in the buffer.
     */
    public int reset(long seed) {
        callerLock.lock();
        try {
            beginReset(seed, null);
            return finishExchange() | outputWaiting();
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Applies the action the caller wrote into the buffer and runs the model to its next
     * decision point or to the end of the episode. Returns the status; observation and reward
     * are in the buffer.
     */
    public int step() {
        callerLock.lock();
        try {
            beginStep(null);
            return finishExchange() | outputWaiting();
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Where what the model thread prints goes from now on: {@code "console"} (unchanged, the
     * default), {@code "caller"} (whole lines wait for {@link #takeOutput()}), {@code "file"}
     * (whole lines are appended to the file {@code path}, whose folder must exist) or {@code "off"}.
     * Errors still carry what the model printed before them, whatever the destination.
     */
    public void setOutput(String destination, String path) {
        callerLock.lock();
        try {
            ensureUsable();
            InstanceOutput.Destination chosen;
            try {
                chosen = InstanceOutput.Destination.valueOf(String.valueOf(destination).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the model's output can go to \"console\", \"caller\", \"file\" or "
                        + "\"off\", not \"" + destination + "\"");
            }
            output.sendTo(chosen, path);
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * The lines the model printed since the last call (destination {@code "caller"}), each
     * starting with {@code 'O'} (System.out) or {@code 'E'} (System.err) and ending with a newline;
     * empty if there are none. Also after {@link #close()}, which completes a partial last line.
     */
    public String takeOutput() {
        return output.takeLines();
    }

    /** {@link #OUTPUT_WAITING} if lines wait for {@link #takeOutput()}, else 0. */
    int outputWaiting() {
        return output.hasWaitingLines() ? OUTPUT_WAITING : 0;
    }

    // ---- the two halves of reset() and step(), so that a group can run many sessions at once --

    /**
     * Hands the model thread a new episode; {@link #finishExchange()} waits for its first
     * decision, or {@code byLane} (if not null) is told when the model hands back.
     */
    void beginReset(long seed, CarrierLane byLane) {
        ensureUsable();
        if (buffer == null) {
            throw new IllegalStateException("configure() the session before reset()");
        }
        if (modelThreadStuck) {
            replaceStuckModelThread();
        }
        episodeSeed = seed;
        command = RUN_EPISODE;
        abandonEpisode = modelInDecision;
        handOver("reach its first requestAction()", byLane);
    }

    /**
     * Hands the model thread the action in the buffer; {@link #finishExchange()} waits for the
     * next decision, or {@code byLane} (if not null) is told when the model hands back.
     */
    void beginStep(CarrierLane byLane) {
        if (status != RUNNING || !modelInDecision || modelThreadStuck || closed) {
            ensureUsable();
            throw new IllegalStateException("step() needs a running episode: the episode has ended"
                    + (status == FAILED ? " with an error" : "") + "; call reset() first");
        }
        command = STEP;
        handOver("reach its next requestAction()", byLane);
    }

    /** Waits until the model thread hands back (within the step timeout) and returns the status. */
    int finishExchange() {
        return awaitOutcome(timeoutNanos);
    }

    /** The status of an exchange whose model has handed back, or the model's failure as an exception. */
    int outcome() {
        if (status == FAILED) {
            Throwable cause = failure;
            if (cause instanceof ModelLoadException || cause instanceof StepTimeoutException) {
                throw (RuntimeException) cause;
            }
            throw new ModelFailure(failureMessage(cause), cause);
        }
        return status;
    }

    /**
     * Why the action in the buffer is not a value of the action space (see {@link
     * Space#problemWith}), or null if it is one or the session is not configured yet.
     */
    String actionProblem() {
        return buffer == null ? null : actionSpace.problemWith(buffer, 0);
    }

    /** The action space agreed with the caller (null before {@link #configure}). */
    Space configuredActionSpace() {
        return actionSpace;
    }

    /** The step timeout in nanoseconds. */
    long timeoutNanos() {
        return timeoutNanos;
    }

    /** When the virtual model thread resumed for the current exchange (System.nanoTime), or {@link #NOT_RESUMED}. */
    long exchangeStartedAt() {
        return exchangeStartedAt.get();
    }

    /** Whether the model has handed the current exchange back. */
    boolean handedBackThisExchange() {
        return turn == CALLER;
    }

    /**
     * The group's wait ran out: gives up on the model thread unless it has handed back, and
     * returns the timeout to report (null if it handed back in time after all).
     */
    StepTimeoutException abandonIfStuck(long timeout) {
        return giveUp(pendingGoal, timeout);
    }

    /**
     * The model handed back but its virtual thread kept the carrier thread {@code carrierName}:
     * it is pinned there (it called requestAction() from native code or a class initializer).
     * Gives up on the model thread and returns the error to report.
     */
    StepTimeoutException abandonPinned(String carrierName) {
        ModelWorker stuck;
        synchronized (handoffLock) {
            stuck = worker;
            stuck.orphaned = true;
        }
        modelThreadStuck = true;
        status = FAILED;
        modelInDecision = false;
        return new StepTimeoutException("The model " + folder.getName() + " handed its decision back, but its "
                + "virtual thread " + stuck.thread.getName() + " did not let go of its carrier thread " + carrierName
                + " within " + (timeoutNanos / 1e9) + " s (step_timeout): it is pinned to it, which happens when "
                + "requestAction() is called from native code or from a class initializer. Run this model with "
                + "model_threads=\"platform\". Its thread is at:" + stackOf(stuck.thread)
                + "\nreset() starts a new model thread.");
    }

    /**
     * Whether this session's model thread handed its decision back but kept its caller's thread
     * (it is pinned to it): it began to wait for its turn in the run {@code taskCount} of its
     * carrier, which goes on (watchdog).
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
        ModelWorker stuck = worker;
        failure = new StepTimeoutException("The model " + folder.getName() + " handed its decision back, but its "
                + "virtual thread " + stuck.thread.getName() + " did not let go of its caller's thread (" + carrierName
                + ") within " + (timeoutNanos / 1e9) + " s (step_timeout): it is pinned to it, which happens when "
                + "requestAction() is called from native code or from a class initializer. Run this model with "
                + "model_threads=\"platform\". Its thread is at:" + stackOf(stuck.thread)
                + "\nreset() starts a new model thread.");
        status = FAILED;
        modelInDecision = false;
        modelThreadStuck = true;
        stuck.orphaned = true;
        LockSupport.unpark(stuck.thread);
    }

    /** The model's label and the stack of its thread, for the watchdog's report. */
    String whereTheModelIs() {
        Thread thread = worker.thread;
        return "\nThe model " + label + " (thread " + thread.getName() + ") is at:" + stackOf(thread);
    }

    /** Ends the episode (if any) and the model thread. Safe to call more than once. */
    @Override
    public void close() {
        callerLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (modelThreadStuck) {
                stopStuckThread(worker);
                output.close();
                return;
            }
            command = CLOSE;
            abandonEpisode = modelInDecision;
            try {
                handOver("end its episode", null);
                awaitOutcome(timeoutNanos);
                worker.thread.join(Math.max(1, timeoutNanos / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                stopStuckThread(worker);
            } finally {
                output.close();
            }
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Whether the model draws itself (implements {@link Drawable}), as seen by {@link
     * #describeModel}; false before that.
     */
    public boolean modelDraws() {
        callerLock.lock();
        try {
            return modelDraws;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Draws the model's current state into {@code target} (see {@link ModelRenderer}). The
     * caller's thread draws while the model thread waits (at a decision point, or after its
     * episode ended), so the hand-off invariant holds: model code never runs concurrently with itself.
     *
     * <p>Returns false, drawing nothing, when there is no model standing still to draw: before the
     * first episode, when the last reset failed before the model connected, or after a timeout
     * left the model thread running.
     */
    public boolean render(ByteBuffer target, int width, int height) {
        callerLock.lock();
        try {
            ensureUsable();
            ModelRenderer.checkSize(target, width, height);
            RLConnector current = modelThreadStuck || turn != CALLER ? null : worker.connector;
            if (current == null) {
                return false;
            }
            renderer.draw(current.getModel(), target, width, height);
            return true;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * The label of this session ({@code <model name>#<n>}); its model thread is named
     * {@code alpyperl-model-<label>}, with a suffix {@code .<k>} for the k-th thread after a timeout.
     */
    public String getLabel() {
        return label;
    }

    /** The name of the thread that runs this session's model now (diagnostics). */
    public String getModelThreadName() {
        return worker.thread.getName();
    }

    /** Whether the model thread of this session is alive (tests and diagnostics). */
    public boolean isModelThreadAlive() {
        return worker.thread.isAlive();
    }

    /**
     * How many model threads of all sessions in this JVM are running now, platform and virtual
     * ones alike ({@code Thread.getAllStackTraces()} does not see virtual threads).
     */
    public static int liveModelThreads() {
        return LIVE_MODEL_THREADS.size();
    }

    /** The model threads that run now, virtual ones included (which {@code Thread.getAllStackTraces()} omits). */
    static Set<Thread> modelThreads() {
        return Collections.unmodifiableSet(LIVE_MODEL_THREADS);
    }

    // =========================================================================================
    // Caller side of the hand-off
    // =========================================================================================

    /**
     * Gives the turn to the model thread, which is to {@code goal} (for the timeout message);
     * {@code byLane}, if not null, carries out the exchange and is told of the hand-back.
     */
    private void handOver(String goal, CarrierLane byLane) {
        pendingGoal = goal;
        exchangeLane = byLane;
        if (byLane == null) {
            caller = Thread.currentThread(); // the one to wake when the model hands back
        }
        if (lane != null) {
            exchangeStartedAt.lazySet(NOT_RESUMED);
        }
        turn = MODEL;
        if (modelParked) {
            LockSupport.unpark(worker.thread);
        }
    }

    /** Waits for the model thread's outcome: the status, or the model's failure as an exception. */
    private int awaitOutcome(long timeout) {
        awaitCallerTurn(timeout, pendingGoal);
        return outcome();
    }

    private void awaitCallerTurn(long timeout, String goal) {
        if (callerCarrier != null) {
            while (!callerCarrier.runUntil(handedBack, timeout)) {
                if (timedOut(goal, timeout)) {
                    return;
                }
            }
            return;
        }
        long start = System.nanoTime();
        long spin = callerSpin.nextSpin();
        while (turn != CALLER) {
            long waited = System.nanoTime() - start;
            if (waited < spin) {
                Thread.onSpinWait();
                continue;
            }
            if (waited >= timeout) {
                if (timedOut(goal, timeout)) {
                    return;
                }
            }
            callerParked = true;
            if (turn != CALLER) {
                LockSupport.parkNanos(this, Math.max(timeout - waited, 1000L));
            }
            callerParked = false;
        }
        callerSpin.waited(spin, System.nanoTime() - start);
    }

    /** The caller's wait ran out: give up on the model thread unless it just handed back. */
    private boolean timedOut(String goal, long timeout) {
        StepTimeoutException stuck = giveUp(goal, timeout);
        if (stuck == null) {
            return true;
        }
        throw stuck;
    }

    /** Gives up on the model thread unless it has handed back; returns the timeout to report, or null. */
    private StepTimeoutException giveUp(String goal, long timeout) {
        ModelWorker stuck;
        synchronized (handoffLock) {
            if (turn == CALLER) {
                return null;
            }
            stuck = worker;
            stuck.orphaned = true;
        }
        modelThreadStuck = true;
        status = FAILED;
        modelInDecision = false;
        return new StepTimeoutException("The model " + folder.getName() + " did not " + goal + " within "
                + (timeout / 1e9) + " s (step_timeout). Its thread " + stuck.thread.getName() + " is at:"
                + stackOf(stuck.thread)
                + "\nIt may loop forever or wait for something that never comes. reset() starts a new model thread.");
    }

    private static String stackOf(Thread thread) {
        StringBuilder where = new StringBuilder();
        for (StackTraceElement frame : thread.getStackTrace()) {
            where.append("\n\tat ").append(frame);
        }
        return where.toString();
    }

    private void replaceStuckModelThread() {
        stopStuckThread(worker);
        modelThreadStuck = false;
        status = TRUNCATED;
        modelInDecision = false;
        turn = CALLER;
        startModelThread();
    }

    @SuppressWarnings({"deprecation", "removal"})
    private static void stopStuckThread(ModelWorker stuck) {
        Thread thread = stuck.thread;
        thread.interrupt();
        try {
            thread.stop(); // the only way out of an endless loop in model code (unsupported from Java 20 on)
        } catch (UnsupportedOperationException | SecurityException e) {
            System.err.println("alpyperl: the stuck model thread " + thread.getName()
                    + " cannot be stopped on this Java version; it is left running as a daemon");
        }
    }

    private void ensureUsable() {
        if (closed) {
            throw new IllegalStateException("the environment is closed");
        }
    }

    // =========================================================================================
    // Model side of the hand-off
    // =========================================================================================

    /** What a model thread runs: the model instance's commands, with the state of its current episode. */
    private final class ModelWorker implements Runnable {
        /** The thread that runs this worker: a platform daemon thread, or a virtual thread on the lane. */
        final Thread thread;
        /** Set when the caller gave up on this thread (timeout): it must never touch the session again. */
        volatile boolean orphaned;
        RLConnector connector;
        int decisions;
        /** The first failure of model code that the connector saw in this episode. */
        Throwable modelFailure;

        ModelWorker(String name) {
            if (lane != null) {
                thread = VirtualThreads.newThread(lane, name, this);
            } else if (callerCarrier != null) {
                thread = VirtualThreads.newThread(this::schedule, name, this);
            } else {
                thread = new Thread(this, name);
                thread.setDaemon(true);
            }
            thread.setContextClassLoader(folder.classLoader());
        }

        /**
         * Schedules this virtual model thread's next run: on the caller's thread, or once the
         * caller gave up on it, on a thread of its own (an abandoned model never runs on a caller again).
         */
        private void schedule(Runnable task) {
            if (orphaned) {
                Thread runner = new Thread(task, thread.getName() + "-abandoned");
                runner.setDaemon(true);
                runner.start();
            } else {
                callerCarrier.execute(task);
            }
        }

        @Override
        public void run() {
            LIVE_MODEL_THREADS.add(thread);
            CURRENT_WORKER.set(this);
            bindToCurrentThread();
            ModelOutput.route(output);
            try {
                serveCommands();
            } catch (EpisodeAbandoned | ThreadDeath orphanedOrStopped) {
                // The caller gave up on this thread after a timeout; a new thread serves the session.
            } finally {
                LIVE_MODEL_THREADS.remove(thread);
            }
        }

        private void serveCommands() {
            boolean commandPending = false;
            while (true) {
                if (!commandPending) {
                    awaitModelTurn(this);
                }
                commandPending = false;
                if (orphaned) {
                    return;
                }
                switch (command) {
                    case CLOSE:
                        handBack(this, TRUNCATED, false, null);
                        return;
                    case PROBE:
                        probe(this);
                        break;
                    case RUN_EPISODE:
                        commandPending = runEpisode(this);
                        break;
                    default:
                        fail(this, new IllegalStateException("no episode is waiting for an action"));
                        break;
                }
            }
        }
    }

    private void startModelThread() {
        threadsStarted++;
        worker = new ModelWorker("alpyperl-model-" + label + (threadsStarted > 1 ? "." + threadsStarted : ""));
        worker.thread.start();
    }

    private void awaitModelTurn(ModelWorker self) {
        if (lane != null) {
            awaitModelTurnOnLane(self);
            return;
        }
        if (callerCarrier != null) {
            awaitModelTurnOnCaller(self);
            return;
        }
        long start = System.nanoTime();
        long spin = modelSpin.nextSpin();
        while (turn != MODEL && !self.orphaned) {
            if (System.nanoTime() - start < spin) {
                Thread.onSpinWait();
                continue;
            }
            modelParked = true;
            if (turn != MODEL) {
                LockSupport.park(this);
            }
            modelParked = false;
        }
        modelSpin.waited(spin, System.nanoTime() - start);
    }

    /**
     * A virtual model thread never spins: parking lets its carrier run the lane's other models
     * (a continuation switch), and spinning would only keep them waiting.
     */
    private void awaitModelTurnOnLane(ModelWorker self) {
        while (turn != MODEL && !self.orphaned) {
            modelParked = true;
            if (turn != MODEL) {
                LockSupport.park(this);
            }
            modelParked = false;
        }
        exchangeStartedAt.lazySet(System.nanoTime());
        lane.resumed(this);
    }

    /**
     * A virtual model thread on the caller's thread never spins: parking ends the task its caller
     * runs, which gives the caller its turn (a continuation switch).
     */
    private void awaitModelTurnOnCaller(ModelWorker self) {
        parkedInRun.lazySet(callerCarrier.taskCount());
        while (turn != MODEL && !self.orphaned) {
            modelParked = true;
            if (turn != MODEL) {
                LockSupport.park(this);
            }
            modelParked = false;
        }
        parkedInRun.lazySet(-1);
    }

    /**
     * Reports the outcome and gives the turn back to the caller; an orphaned thread (the caller
     * gave up on it) unwinds instead, so it never overwrites what a newer thread reports.
     */
    private void handBack(ModelWorker self, int newStatus, boolean inDecision, Throwable cause) {
        handBack(self, newStatus, inDecision, cause, null, 0);
    }

    /**
     * As {@link #handBack(ModelWorker, int, boolean, Throwable)}, writing {@code observation} (if
     * not null) and {@code reward} into the buffer first, under the same lock.
     */
    private void handBack(ModelWorker self, int newStatus, boolean inDecision, Throwable cause,
            double[] observation, double reward) {
        if (!inDecision) {
            output.endLines(); // the episode is over: a partial last line is complete now
        }
        synchronized (handoffLock) {
            if (self.orphaned) {
                throw new EpisodeAbandoned();
            }
            if (observation != null) {
                writeObservation(observation, reward);
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

    private void fail(ModelWorker self, Throwable cause) {
        handBack(self, FAILED, false, cause);
    }

    /** Runs one episode. Returns true when it was abandoned by a command that still has to be done. */
    private boolean runEpisode(ModelWorker self) {
        output.endLines(); // a partial line of an abandoned episode is not continued by this one
        ModelRuntime.ModelRun run = null;
        self.connector = null;
        self.decisions = 0;
        self.modelFailure = null;
        abandonEpisode = false;
        Throwable error = null;
        try {
            run = folder.runtime().create(parameters, episodeSeed);
            run.run();
        } catch (EpisodeAbandoned abandoned) {
            return !self.orphaned;
        } catch (Throwable t) {
            error = t;
        } finally {
            if (run != null) {
                try {
                    run.dispose();
                } catch (Throwable t) {
                    error = error != null ? error : t;
                }
            }
        }
        if (abandonEpisode) {
            // The model caught EpisodeAbandoned and returned: the command that abandoned it is still to be done.
            return true;
        }
        if (self.modelFailure != null) {
            error = self.modelFailure; // what the connector saw first names the failing call best
        }
        if (error == null && self.connector == null) {
            error = new ModelException("the model ended its run without creating an RLConnector; "
                    + "create one in the model (new RLConnector(this)) and call requestAction() at each decision"
                    + run.endOfRunHint());
        } else if (error == null && self.decisions == 0) {
            error = new ModelException("the model ended its run before its first requestAction(), so there is "
                    + "no first observation; call requestAction() where the first decision is needed"
                    + run.endOfRunHint());
        }
        if (error != null) {
            fail(self, error);
            return false;
        }
        try {
            double[] observation = observe(self.connector, observationSpace);
            double reward = reward(self.connector);
            boolean finished = finished(self.connector);
            handBack(self, finished ? TERMINATED : TRUNCATED, false, null, observation, reward);
        } catch (EpisodeAbandoned abandoned) {
            throw abandoned;
        } catch (Throwable t) {
            fail(self, t);
        }
        return false;
    }

    private void probe(ModelWorker self) {
        ModelRuntime.ModelRun run = null;
        Throwable problem = null;
        self.connector = null;
        try {
            run = folder.runtime().create(Collections.emptyMap(), episodeSeed);
            if (run.model() == null) {
                run.build(); // a model whose connector declares the spaces while the model is built (ALPypeRL 1.x)
            }
            RLModel model = self.connector != null ? self.connector.getModel() : run.model();
            if (model == null) {
                throw new ModelLoadException("the model does not implement " + RLModel.class.getName());
            }
            Space observation = model.getObservationSpace();
            Space action = model.getActionSpace();
            modelDraws = model instanceof Drawable;
            StringBuilder json = new StringBuilder("{\"observation_space\":");
            json.append(observation == null ? "null" : observation.toJson());
            json.append(",\"action_space\":").append(action == null ? "null" : action.toJson());
            json.append(",\"parameters\":");
            List<String> names = folder.runtime().parameterNames();
            if (names == null) {
                json.append("null");
            } else {
                json.append('[');
                for (int i = 0; i < names.size(); i++) {
                    if (i > 0) {
                        json.append(',');
                    }
                    Json.appendString(json, names.get(i));
                }
                json.append(']');
            }
            probeResult = json.append('}').toString();
        } catch (EpisodeAbandoned abandoned) {
            throw abandoned;
        } catch (Throwable t) {
            problem = t;
        } finally {
            if (run != null) {
                try {
                    run.dispose();
                } catch (Throwable t) {
                    problem = problem != null ? problem : t;
                }
            }
        }
        // Only now hand the turn back: the caller may look at the connector (render) once it has the turn.
        self.connector = null;
        if (problem != null) {
            fail(self, problem);
        } else {
            handBack(self, TRUNCATED, false, null);
        }
    }

    @Override
    protected void attach(RLConnector created) {
        ModelWorker self = modelThreadOrFail("new RLConnector()");
        if (self.connector != null && self.connector != created) {
            throw new ModelException("the model created a second RLConnector; create exactly one per model instance");
        }
        self.connector = created;
    }

    private static ModelWorker modelThreadOrFail(String call) {
        ModelWorker self = CURRENT_WORKER.get();
        if (self == null) {
            throw new ModelException(call + " was called on thread " + Thread.currentThread().getName()
                    + "; call it on the thread that runs the model");
        }
        return self;
    }

    @Override
    protected long episodeSeed() {
        return episodeSeed;
    }

    @Override
    protected Space observationSpace() {
        return observationSpace;
    }

    @Override
    protected Space actionSpace() {
        return actionSpace;
    }

    @Override
    protected void decide(RLConnector asking) {
        ModelWorker self = modelThreadOrFail("requestAction()");
        if (self.orphaned || abandonEpisode) {
            throw abandoned();
        }
        if (asking != self.connector) {
            throw new ModelException("requestAction() was called on an RLConnector that does not belong to this run");
        }
        double[] observation;
        double reward;
        boolean finished;
        boolean truncated;
        try {
            observation = observe(asking, observationSpace);
            reward = reward(asking);
            finished = finished(asking);
            truncated = !finished && truncated(asking);
        } catch (ModelException e) {
            throw failInDecision(self, e);
        }
        self.decisions++;
        handBack(self, finished ? TERMINATED : truncated ? TRUNCATED : RUNNING, true, null, observation, reward);
        awaitModelTurn(self);
        if (self.orphaned || command != STEP) {
            abandonEpisode = true;
            throw abandoned();
        }
        try {
            apply(asking, readAction(actionSpace, buffer, 0));
        } catch (ModelException e) {
            throw failInDecision(self, e);
        }
    }

    /**
     * Model code called by requestAction() failed: reports the failure to the caller at once (the
     * model might catch the exception and carry on), then waits for the next command, which ends
     * the run.
     */
    private EpisodeAbandoned failInDecision(ModelWorker self, ModelException e) {
        self.modelFailure = e;
        fail(self, e);
        awaitModelTurn(self);
        abandonEpisode = true;
        return abandoned();
    }

    /**
     * The signal that unwinds an abandoned episode out of requestAction(). What the model thread
     * prints while it unwinds (an engine may report the signal as an error) is not shown.
     */
    private static EpisodeAbandoned abandoned() {
        ModelOutput.silenceCurrentThread();
        return new EpisodeAbandoned();
    }

    private void writeObservation(double[] observation, double reward) {
        for (int i = 0; i < observation.length; i++) {
            buffer.put(actionSize + i, observation[i]);
        }
        buffer.put(rewardIndex, reward);
    }

    // =========================================================================================

    private String failureMessage(Throwable cause) {
        if (cause instanceof ModelException) {
            return "The model " + folder.getName() + " failed: " + cause.getMessage();
        }
        return "The model " + folder.getName() + " threw " + cause;
    }

    private static Map<String, Object> parseParameters(String json) {
        if (json == null || json.trim().isEmpty()) {
            return Collections.emptyMap();
        }
        Object parsed = Json.parse(json);
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException("parameters must be a JSON object, got " + json);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) parsed;
        return values;
    }

    private static long nanos(double seconds) {
        return (long) Math.min(seconds * 1e9, Long.MAX_VALUE / 4);
    }
}
